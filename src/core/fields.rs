//! Strict, typed reading of JSON objects: unknown keys, missing keys and wrong types become one
//! error that names the field by its path (`categories[1].id`).

use super::json::Value;
use std::fmt;
use std::mem::ManuallyDrop;

// The error texts are built with `push_str` (`write_to`), and Display just writes that text:
// the wasm prints config errors through `ConfigError::message`, which keeps `core::fmt` (format
// strings, padding, integer formatting) out of it.

/// What is wrong with the field at `path` (see [`Detail`]). Boxed, so a `Result` carrying it is
/// one pointer wide: every `?` in the config readers moves a pointer, not the whole error
/// (measured: −715 B brotli of wasm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError(Box<Detail>);

/// The field and its problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub path: String,
    pub problem: Problem,
}

impl std::ops::Deref for FieldError {
    type Target = Detail;
    fn deref(&self) -> &Detail {
        &self.0
    }
}

/// The kinds of field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// "is required"
    Missing,
    /// "must be {0}"
    WrongType(&'static str),
    /// "is not a known field"
    Unknown,
    /// The text itself.
    Invalid(&'static str),
}

impl FieldError {
    /// Appends "`path`: problem".
    pub fn write_to(&self, out: &mut String) {
        out.push('`');
        out.push_str(&self.path);
        out.push_str("`: ");
        self.problem.write_to(out);
    }
}

impl Problem {
    /// Appends the problem's text.
    pub fn write_to(&self, out: &mut String) {
        match self {
            Problem::Missing => out.push_str("is required"),
            Problem::WrongType(what) => {
                out.push_str("must be ");
                out.push_str(what);
            }
            Problem::Unknown => out.push_str("is not a known field"),
            Problem::Invalid(why) => out.push_str(why),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for FieldError {}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.write_to(&mut s);
        f.write_str(&s)
    }
}

impl std::error::Error for Problem {}

impl FieldError {
    /// An error for `path`. Cold and out of line: it sits on every error path of every reader,
    /// and keeping it one call keeps those paths small.
    // The path as a `String` only: one instance, not one per path type.
    #[cold]
    #[inline(never)]
    pub fn new(path: String, problem: Problem) -> Self {
        FieldError(Box::new(Detail { path, problem }))
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
    super::json::write_int(&mut p, i as i64);
    p.push(']');
    p
}

/// A JSON object being read, with the path it sits at.
pub struct Obj<'a> {
    pub path: &'a str,
    entries: &'a [(String, Value)],
}

impl<'a> Obj<'a> {
    /// Wraps `v`, which must be an object.
    pub fn new(v: &'a Value, path: &'a str) -> Result<Self, FieldError> {
        match v {
            Value::Object(entries) => Ok(Obj { path, entries }),
            _ => Err(FieldError::new(path.into(), Problem::WrongType("an object"))),
        }
    }

    /// Fails on the first key not in `allowed`, the known keys separated by spaces. One string
    /// per object rather than an array of `&str`: an array is a table of addresses and lengths
    /// beside the same text, which compresses worse (measured: −10 B brotli).
    pub fn only(&self, allowed: &str) -> Result<(), FieldError> {
        match self.entries.iter().find(|(k, _)| !super::text::fields(allowed, b' ').any(|a| a == k)) {
            Some((k, _)) => Err(self.fail(k, Problem::Unknown)),
            None => Ok(()),
        }
    }

    /// Every key and value, in order.
    pub fn entries(&self) -> &'a [(String, Value)] {
        self.entries
    }

    /// The path of `key` inside this object.
    pub fn at(&self, key: &str) -> String {
        join(self.path, key)
    }

    /// The error `problem` for `key` of this object. Out of line so that each error path in the
    /// readers is one call, not an inlined path join.
    #[cold]
    #[inline(never)]
    pub fn fail(&self, key: &str, problem: Problem) -> FieldError {
        FieldError::new(self.at(key), problem)
    }

    /// The error `problem` for item `i` of the array under `key` (`key[i]`).
    #[cold]
    #[inline(never)]
    pub fn fail_item(&self, key: &str, i: usize, problem: Problem) -> FieldError {
        FieldError::new(index(&self.at(key), i), problem)
    }

    /// [`Problem::Invalid`]`(why)` for `key`: the readers' most common error, in a call that
    /// takes the text itself rather than a `Problem` built on the stack at every site.
    #[cold]
    #[inline(never)]
    pub fn invalid(&self, key: &str, why: &'static str) -> FieldError {
        self.fail(key, Problem::Invalid(why))
    }

    /// [`Problem::Invalid`]`(why)` for item `i` of the array under `key`.
    #[cold]
    #[inline(never)]
    pub fn invalid_item(&self, key: &str, i: usize, why: &'static str) -> FieldError {
        self.fail_item(key, i, Problem::Invalid(why))
    }

    /// The value under `key`; `null` counts as absent.
    pub fn opt(&self, key: &str) -> Option<&'a Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| !matches!(v, Value::Null))
    }

    /// The value under `key` if present, through `pick`, which returns `None` for the wrong kind
    /// (then the error says the field must be `what`). One body for every typed reader.
    fn typed<T>(&self, key: &str, what: &'static str, pick: fn(&'a Value) -> Option<T>) -> Result<Option<T>, FieldError> {
        match self.opt(key) {
            None => Ok(None),
            Some(v) => pick(v).map(Some).ok_or_else(|| self.fail(key, Problem::WrongType(what))),
        }
    }

    /// `Missing` when a required field is absent.
    fn required<T>(&self, key: &str, v: Option<T>) -> Result<T, FieldError> {
        v.ok_or_else(|| self.fail(key, Problem::Missing))
    }

    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, FieldError> {
        self.typed(key, "a string", |v| match v {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub fn str(&self, key: &str) -> Result<&'a str, FieldError> {
        self.required(key, self.opt_str(key)?)
    }

    pub fn opt_int(&self, key: &str) -> Result<Option<i64>, FieldError> {
        self.typed(key, "an integer", |v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })
    }

    pub fn int(&self, key: &str) -> Result<i64, FieldError> {
        self.required(key, self.opt_int(key)?)
    }

    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, FieldError> {
        self.typed(key, "true or false", |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }

    /// The value under `key`, of any kind; `Missing` when absent.
    pub fn value(&self, key: &str) -> Result<&'a Value, FieldError> {
        self.required(key, self.opt(key))
    }

    pub fn opt_arr(&self, key: &str) -> Result<Option<&'a [Value]>, FieldError> {
        self.typed(key, "an array", |v| match v {
            Value::Array(items) => Some(items.as_slice()),
            _ => None,
        })
    }
}

impl Obj<'static> {
    /// The object under `key` if present. Its path is kept for the rest of the program (see
    /// [`keep`]), like the values it reads.
    pub fn opt_obj(&self, key: &str) -> Result<Option<Obj<'static>>, FieldError> {
        self.opt(key).map(|v| Obj::new(v, keep(self.at(key)))).transpose()
    }

    pub fn obj(&self, key: &str) -> Result<Obj<'static>, FieldError> {
        self.required(key, self.opt_obj(key)?)
    }

    /// An optional array of strings; absent is empty. Kept for the rest of the program like the
    /// document it reads (see [`keep`]).
    pub fn strs(&self, key: &str) -> Result<&'static [&'static str], FieldError> {
        let Some(items) = self.opt_arr(key)? else { return Ok(&[]) };
        let mut out = list(items.len());
        for (i, v) in items.iter().enumerate() {
            match v {
                Value::Str(s) => out.push(s.as_str()),
                _ => return Err(self.fail_item(key, i, Problem::WrongType("a string"))),
            }
        }
        Ok(done(out))
    }
}

/// Leaks `path`, for an object read out of a leaked (`'static`) document: an `Obj` that borrows
/// its path has no drop code, and every error exit of the config readers would otherwise free
/// the paths of all the objects open there (measured: −159 B brotli of wasm). A config is read
/// once per page, so the leak is bounded by the config's size (one path per object read: per
/// language, its texts and each category's text), once.
pub fn keep(path: String) -> &'static str {
    path.leak()
}

/// An empty list for items read out of a leaked document, kept for the rest of the program when
/// complete ([`done`]). Never dropped, also not on an error exit: those exits then free nothing
/// (measured: −74 B brotli). A failed config is the page's last, so what it read stays allocated once.
pub fn list<T>(capacity: usize) -> ManuallyDrop<Vec<T>> {
    ManuallyDrop::new(Vec::with_capacity(capacity))
}

/// The complete [`list`], kept for the rest of the program.
pub fn done<T>(list: ManuallyDrop<Vec<T>>) -> &'static [T] {
    ManuallyDrop::into_inner(list).leak()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::json::parse;

    #[test]
    fn names_the_offending_field() {
        let v: &'static Value = Box::leak(Box::new(parse(r#"{"a": {"b": 1, "c": "x", "n": null}}"#).unwrap()));
        let root = Obj::new(v, "").unwrap();
        let a = root.obj("a").unwrap();
        assert_eq!(a.only("b").unwrap_err().to_string(), "`a.c`: is not a known field");
        assert_eq!(a.str("b").unwrap_err().to_string(), "`a.b`: must be a string");
        assert_eq!(a.int("z").unwrap_err().to_string(), "`a.z`: is required");
        assert_eq!(a.int("n").unwrap_err().problem, Problem::Missing);
        assert_eq!(a.opt_str("n").unwrap(), None);
        assert_eq!(index("x", 12), "x[12]");
    }
}
