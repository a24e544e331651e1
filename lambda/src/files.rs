//! Where attachments are kept: a folder under the data directory locally, a private S3 bucket
//! on AWS (`HELPDESK_ATTACHMENTS=dir|s3`, `HELPDESK_BUCKET`). Downloads are always preceded by
//! the ticket's authorization check; from S3 the browser then gets a short-lived presigned URL.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::model::Attachment;

/// How long a presigned download link works.
pub const DOWNLOAD_VALID: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("no such file")]
    NotFound,
    #[error("file storage failed: {0}")]
    Backend(String),
}

/// What the browser gets for a download.
#[derive(Debug)]
pub enum Fetch {
    Bytes(Vec<u8>),
    /// A short-lived URL that serves the file as a download.
    Redirect(String),
}

#[async_trait]
pub trait Files: Send + Sync + std::fmt::Debug {
    async fn put(&self, id: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), FilesError>;
    /// The attachment for a user who may see it.
    async fn fetch(&self, att: &Attachment) -> Result<Fetch, FilesError>;
}

/// Attachments as files in one folder, named by their random id.
#[derive(Debug, Clone)]
pub struct DirFiles {
    dir: PathBuf,
}

impl DirFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

fn safe_id(id: &str) -> Result<&str, FilesError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(id)
    } else {
        Err(FilesError::NotFound)
    }
}

#[async_trait]
impl Files for DirFiles {
    async fn put(&self, id: &str, _content_type: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        let path = self.dir.join(safe_id(id)?);
        tokio::fs::create_dir_all(&self.dir).await.map_err(|e| FilesError::Backend(e.to_string()))?;
        tokio::fs::write(path, bytes).await.map_err(|e| FilesError::Backend(e.to_string()))
    }

    async fn fetch(&self, att: &Attachment) -> Result<Fetch, FilesError> {
        let bytes = tokio::fs::read(self.dir.join(safe_id(&att.id)?)).await.map_err(|_| FilesError::NotFound)?;
        Ok(Fetch::Bytes(bytes))
    }
}

/// Attachments in a private S3 bucket under `attachments/{id}`.
#[derive(Debug, Clone)]
pub struct S3Files {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Files {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    fn key(id: &str) -> Result<String, FilesError> {
        Ok(format!("attachments/{}", safe_id(id)?))
    }
}

fn s3_error(e: impl std::error::Error + 'static) -> FilesError {
    FilesError::Backend(aws_sdk_s3::error::DisplayErrorContext(e).to_string())
}

#[async_trait]
impl Files for S3Files {
    async fn put(&self, id: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), FilesError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::key(id)?)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(s3_error)?;
        Ok(())
    }

    async fn fetch(&self, att: &Attachment) -> Result<Fetch, FilesError> {
        let presigning = PresigningConfig::expires_in(DOWNLOAD_VALID).map_err(s3_error)?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(Self::key(&att.id)?)
            // Served as a download, never rendered: an uploaded HTML or SVG file cannot run.
            .response_content_type("application/octet-stream")
            .response_content_disposition(content_disposition(&att.filename))
            .response_cache_control("private, no-store")
            .presigned(presigning)
            .await
            .map_err(s3_error)?;
        Ok(Fetch::Redirect(request.uri().to_owned()))
    }
}

/// `attachment` with the name, ASCII fallback plus the exact UTF-8 name (RFC 6266).
pub fn content_disposition(filename: &str) -> String {
    format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        filename.replace(|c: char| !c.is_ascii() || c == '"' || c == '\\', "_"),
        crate::service::urlencode(filename)
    )
}
