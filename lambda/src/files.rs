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
/// How long a presigned upload link works (a large file on a slow line needs a while).
pub const UPLOAD_VALID: Duration = Duration::from_secs(900);

#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error("no such file")]
    NotFound,
    #[error("file storage failed: {0}")]
    Backend(String),
}

/// Where and how the browser sends one file straight to storage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DirectUpload {
    pub method: &'static str,
    pub url: String,
    /// Headers the browser must send exactly as given (they are part of the signature).
    pub headers: Vec<(String, String)>,
}

/// A finished direct upload, as storage saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    pub size: u64,
    pub content_type: String,
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

    /// Whether browsers upload attachments straight to storage (S3: a Lambda request cannot carry
    /// large files) instead of inside the form. The form then carries only the upload ids.
    fn direct_uploads(&self) -> bool {
        false
    }

    /// A presigned upload of exactly `size` bytes of `content_type`, kept apart per `owner` until
    /// a form claims it. `None` where direct uploads are not supported.
    async fn presign_upload(
        &self,
        _owner: &str,
        _id: &str,
        _content_type: &str,
        _size: u64,
    ) -> Result<Option<DirectUpload>, FilesError> {
        Ok(None)
    }

    /// Makes `owner`'s finished direct upload `id` the attachment `id`. Idempotent (a retried
    /// form claims it again); `NotFound` when `owner` uploaded no such file.
    async fn claim_upload(&self, _owner: &str, _id: &str) -> Result<Uploaded, FilesError> {
        Err(FilesError::NotFound)
    }
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

    /// Unclaimed uploads live under `uploads/` (the bucket's lifecycle rule removes them after a
    /// day), one folder per user, so nobody can claim another user's file.
    fn upload_key(owner: &str, id: &str) -> Result<String, FilesError> {
        Ok(format!("uploads/{}/{}", safe_id(owner)?, safe_id(id)?))
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

    fn direct_uploads(&self) -> bool {
        true
    }

    async fn presign_upload(
        &self,
        owner: &str,
        id: &str,
        content_type: &str,
        size: u64,
    ) -> Result<Option<DirectUpload>, FilesError> {
        let presigning = PresigningConfig::expires_in(UPLOAD_VALID).map_err(s3_error)?;
        let size_i64 = i64::try_from(size).map_err(|_| FilesError::Backend("size out of range".into()))?;
        // Content-Length and Content-Type are signed: S3 refuses a body of any other size or type.
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(Self::upload_key(owner, id)?)
            .content_type(content_type)
            .content_length(size_i64)
            .presigned(presigning)
            .await
            .map_err(s3_error)?;
        let headers = request
            .headers()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length")) // the browser sets it
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        Ok(Some(DirectUpload { method: "PUT", url: request.uri().to_owned(), headers }))
    }

    /// Claims once: the upload is copied (exactly the bytes that were checked, by ETag) to
    /// `attachments/{id}`, which the presigned upload link cannot reach, and the upload is
    /// deleted. A retried form finds the attachment already claimed by the same owner and
    /// leaves it alone, so nothing put through the old link later can replace it.
    async fn claim_upload(&self, owner: &str, id: &str) -> Result<Uploaded, FilesError> {
        let to = Self::key(id)?;
        let from = Self::upload_key(owner, id)?;
        let head_of = |key: String| async move {
            match self.client.head_object().bucket(&self.bucket).key(key).send().await {
                Ok(head) => Ok(Some(head)),
                Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
                Err(e) => Err(s3_error(e)),
            }
        };
        let uploaded = |head: &aws_sdk_s3::operation::head_object::HeadObjectOutput| Uploaded {
            size: head.content_length().unwrap_or(0).max(0) as u64,
            content_type: head.content_type().unwrap_or("application/octet-stream").to_owned(),
        };
        if let Some(claimed) = head_of(to.clone()).await? {
            let mine = claimed.metadata().and_then(|m| m.get("owner")).is_some_and(|o| o == owner);
            return if mine { Ok(uploaded(&claimed)) } else { Err(FilesError::NotFound) };
        }
        let Some(head) = head_of(from.clone()).await? else { return Err(FilesError::NotFound) };
        let mut copy = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(format!("{}/{from}", self.bucket))
            .key(&to)
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .metadata("owner", owner)
            .content_type(head.content_type().unwrap_or("application/octet-stream"));
        if let Some(etag) = head.e_tag() {
            copy = copy.copy_source_if_match(etag);
        }
        copy.send().await.map_err(s3_error)?;
        self.client.delete_object().bucket(&self.bucket).key(&from).send().await.map_err(s3_error)?;
        Ok(uploaded(&head))
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
