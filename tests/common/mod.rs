//! Helpers shared by the integration tests: a scratch directory that is removed when the test
//! is done with it (also when it fails), so test runs leave nothing behind in the temp folder.

use std::ops::Deref;
use std::path::{Path, PathBuf};

/// A fresh directory under the system temp folder, unique to this test process and `name`,
/// removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    /// Creates `rdsflows-<name>-<pid>`, emptied first if a crashed run left it.
    pub(crate) fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rdsflows-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
