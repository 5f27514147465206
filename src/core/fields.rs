//! Strict, typed reading of JSON objects: unknown keys, missing keys and wrong types become one
//! error that names the field by its path (`categories[1].id`).

use super::json::Value;
use thiserror::Error;

/// What is wrong with the field at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("`{path}`: {problem}")]
pub struct FieldError {
    pub path: String,
    pub problem: Problem,
}

/// The kinds of field error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("is required")]
    Missing,
    #[error("must be {0}")]
    WrongType(&'static str),
    #[error("is not a known field")]
    Unknown,
    #[error("{0}")]
    Invalid(&'static str),
}

impl FieldError {
    /// An error for `path`.
    pub fn new(path: impl Into<String>, problem: Problem) -> Self {
        FieldError { path: path.into(), problem }
    }
}

/// Joins a path and a key: `a` + `b` = `a.b`; the root path is empty.
pub fn join(path: &str, key: &str) -> String {
    let mut p = String::with_capacity(path.len() + key.len() + 1);
    p.push_str(path);
    if !path.is_empty() {
        p.push('.');
    }
    p.push_str(key);
    p
}

/// `a` + 3 = `a[3]`.
pub fn index(path: &str, i: usize) -> String {
    let mut p = String::from(path);
    p.push('[');
    let mut n = String::new();
    super::json::write_int(&mut n, i as i64);
    p.push_str(&n);
    p.push(']');
    p
}

/// A JSON object being read, with the path it sits at.
pub struct Obj<'a> {
    pub path: String,
    entries: &'a [(String, Value)],
}

impl<'a> Obj<'a> {
    /// Wraps `v`, which must be an object.
    pub fn new(v: &'a Value, path: String) -> Result<Self, FieldError> {
        match v {
            Value::Object(entries) => Ok(Obj { path, entries }),
            _ => Err(FieldError::new(path, Problem::WrongType("an object"))),
        }
    }

    /// Fails on the first key not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), FieldError> {
        match self.entries.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) => Err(FieldError::new(join(&self.path, k), Problem::Unknown)),
            None => Ok(()),
        }
    }

    /// Every key and value, in order.
    pub fn entries(&self) -> &'a [(String, Value)] {
        self.entries
    }

    /// The path of `key` inside this object.
    pub fn at(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// The value under `key`; `null` counts as absent.
    pub fn opt(&self, key: &str) -> Option<&'a Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != Value::Null)
    }

    fn req(&self, key: &str) -> Result<&'a Value, FieldError> {
        self.opt(key).ok_or_else(|| FieldError::new(self.at(key), Problem::Missing))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(_) => Err(FieldError::new(self.at(key), Problem::WrongType("a string"))),
        }
    }

    pub fn str(&self, key: &str) -> Result<&'a str, FieldError> {
        self.req(key)?;
        self.opt_str(key).map(|s| s.unwrap_or_default())
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(_) => Err(FieldError::new(self.at(key), Problem::WrongType("an integer"))),
        }
    }

    pub fn int(&self, key: &str) -> Result<i64, FieldError> {
        self.req(key)?;
        self.opt_int(key).map(|n| n.unwrap_or_default())
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(FieldError::new(self.at(key), Problem::WrongType("true or false"))),
        }
    }

    pub fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, FieldError> {
        self.opt(key).map(|v| Obj::new(v, self.at(key))).transpose()
    }

    pub fn obj(&self, key: &str) -> Result<Obj<'a>, FieldError> {
        Obj::new(self.req(key)?, self.at(key))
    }

    pub fn opt_arr(&self, key: &str) -> Result<Option<&'a [Value]>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(_) => Err(FieldError::new(self.at(key), Problem::WrongType("an array"))),
        }
    }

    pub fn arr(&self, key: &str) -> Result<&'a [Value], FieldError> {
        self.req(key)?;
        self.opt_arr(key).map(|a| a.unwrap_or_default())
    }

    /// An optional array of strings.
    pub fn opt_strs(&self, key: &str) -> Result<Option<Vec<&'a str>>, FieldError> {
        let Some(items) = self.opt_arr(key)? else { return Ok(None) };
        let path = self.at(key);
        items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Str(s) => Ok(s.as_str()),
                _ => Err(FieldError::new(index(&path, i), Problem::WrongType("a string"))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::parse;

    #[test]
    fn names_the_offending_field() {
        let v = parse(r#"{"a": {"b": 1, "c": "x", "n": null}}"#).unwrap();
        let root = Obj::new(&v, String::new()).unwrap();
        let a = root.obj("a").unwrap();
        assert_eq!(a.only(&["b"]).unwrap_err().to_string(), "`a.c`: is not a known field");
        assert_eq!(a.str("b").unwrap_err().to_string(), "`a.b`: must be a string");
        assert_eq!(a.int("z").unwrap_err().to_string(), "`a.z`: is required");
        assert_eq!(a.int("n").unwrap_err().problem, Problem::Missing);
        assert_eq!(a.opt_str("n").unwrap(), None);
        assert_eq!(index("x", 12), "x[12]");
    }
}
