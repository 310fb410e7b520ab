//! Where a configuration (or rules) problem is: [`Locator`] turns byte
//! offsets into file, line and column, and [`ConfigErrors`] carries every
//! problem of one pass so an operator fixes them all at once.

use std::fmt;
use std::path::{Path, PathBuf};

/// One problem in a configuration or rules file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file.display(), self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file.display(), self.message),
            _ => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem found in one pass, so an operator fixes them all at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Maps byte offsets in a file's text to 1-based line and column.
pub struct Locator<'a> {
    file: &'a Path,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub fn new(file: &'a Path, text: &'a str) -> Self {
        Locator { file, text }
    }

    pub fn at(&self, offset: usize, message: impl Into<String>) -> ConfigError {
        let before = crate::util::prefix(self.text, offset);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        ConfigError {
            file: self.file.to_path_buf(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }

    pub fn whole(&self, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error. Only the message and span are used: the
    /// toml crate's own rendering quotes the offending line, which could be a
    /// password somebody put where it does not belong.
    pub fn toml(&self, e: &toml::de::Error) -> ConfigError {
        let message = e.message().trim().to_string();
        match e.span() {
            Some(span) => self.at(span.start, message),
            None => self.whole(message),
        }
    }
}
