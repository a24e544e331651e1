use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = helpdesk::cli::Cli::parse();
    match helpdesk::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
