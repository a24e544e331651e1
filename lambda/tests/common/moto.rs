//! A real moto server (the AWS APIs, locally) for the DynamoDB, SES and S3 code: started once
//! per test binary on a free loopback port, stopped when the test process ends.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The venv's Python, which has moto (`MOTO_SERVER` points at the venv's `moto_server`).
pub fn python() -> PathBuf {
    let moto = match std::env::var("MOTO_SERVER") {
        Ok(p) => PathBuf::from(p),
        Err(_) => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server"),
    };
    let python = moto.with_file_name("python");
    assert!(
        python.exists(),
        "no Python with moto next to {}: run scripts/test.sh once (it installs moto into .venv) or set MOTO_SERVER",
        moto.display()
    );
    python
}

/// The moto server's URL, starting it on first use.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(|| {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        // moto_server.py exits when its stdin (this process's pipe) closes: when the tests end.
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto_server.py");
        let child = Command::new(python())
            .arg(script)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        std::mem::forget(child);
        let addr = format!("127.0.0.1:{port}");
        let start = Instant::now();
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                use std::io::Write;
                let _ = write!(s, "GET /moto-api/ HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 12];
                if s.read(&mut buf).is_ok_and(|n| n > 0) {
                    break;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(60), "moto_server did not start on {addr}");
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("http://{addr}")
    })
}

/// SDK configuration pointing every client at the moto server, with dummy credentials.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// A DynamoDB store on a new table of its own (created from the deployment template's layout).
pub async fn dynamo_store() -> helpdesk::store::dynamodb::DynamoStore {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let store = helpdesk::store::dynamodb::DynamoStore::new(client, unique("helpdesk"));
    store.create_table().await.expect("create table");
    store
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", helpdesk::auth::random_token(6).to_lowercase())
}

/// moto's record of everything it received (`/moto-api/data.json`).
pub async fn data() -> serde_json::Value {
    reqwest::get(format!("{}/moto-api/data.json", endpoint())).await.expect("data.json").json().await.expect("json")
}
