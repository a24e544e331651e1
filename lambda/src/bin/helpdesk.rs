use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Under AWS Lambda the runtime API drives the service; there is no command line.
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return match helpdesk::aws_lambda::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "the service could not start");
                ExitCode::FAILURE
            }
        };
    }
    let cli = helpdesk::cli::Cli::parse();
    match helpdesk::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
