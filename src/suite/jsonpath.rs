//! The JSONPath subset CAMARA test definitions use: `$.a.b`, `$.a[0].b`.

use serde_json::{Map, Value};

#[derive(Debug, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse(path: &str) -> Result<Vec<Segment>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or_else(|| format!("JSONPath {path:?} must start with `$`"))?;
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut key = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    key.push(n);
                    chars.next();
                }
                if key.is_empty() {
                    return Err(format!("JSONPath {path:?} has an empty key"));
                }
                out.push(Segment::Key(key));
            }
            '[' => {
                let mut digits = String::new();
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    digits.push(n);
                }
                let index = digits
                    .parse()
                    .map_err(|_| format!("JSONPath {path:?}: bad index [{digits}]"))?;
                out.push(Segment::Index(index));
            }
            other => return Err(format!("JSONPath {path:?}: unexpected {other:?}")),
        }
    }
    Ok(out)
}

/// The value at `path` in `root`, `Ok(None)` when absent.
pub fn get<'a>(root: &'a Value, path: &str) -> Result<Option<&'a Value>, String> {
    let mut current = root;
    for seg in parse(path)? {
        let next = match (&seg, current) {
            (Segment::Key(k), Value::Object(m)) => m.get(k),
            (Segment::Index(i), Value::Array(a)) => a.get(*i),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return Ok(None),
        }
    }
    Ok(Some(current))
}

/// Sets `path` in `root` to `value`, creating objects on the way.
pub fn set(root: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let segments = parse(path)?;
    let Some((last, parents)) = segments.split_last() else {
        *root = value;
        return Ok(());
    };
    let mut current = root;
    for seg in parents {
        current = match seg {
            Segment::Key(k) => {
                if !current.is_object() {
                    *current = Value::Object(Map::new());
                }
                current
                    .as_object_mut()
                    .map(|m| m.entry(k.clone()).or_insert(Value::Object(Map::new())))
                    .ok_or_else(|| format!("JSONPath {path:?}: not an object"))?
            }
            Segment::Index(i) => current
                .as_array_mut()
                .and_then(|a| a.get_mut(*i))
                .ok_or_else(|| format!("JSONPath {path:?}: no element [{i}]"))?,
        };
    }
    match last {
        Segment::Key(k) => {
            if !current.is_object() {
                *current = Value::Object(Map::new());
            }
            if let Some(m) = current.as_object_mut() {
                m.insert(k.clone(), value);
            }
        }
        Segment::Index(i) => {
            let slot = current
                .as_array_mut()
                .and_then(|a| a.get_mut(*i))
                .ok_or_else(|| format!("JSONPath {path:?}: no element [{i}]"))?;
            *slot = value;
        }
    }
    Ok(())
}

/// Removes `path` from `root` (no-op when absent).
pub fn remove(root: &mut Value, path: &str) -> Result<(), String> {
    let segments = parse(path)?;
    let Some((Segment::Key(last), parents)) = segments.split_last() else {
        return Err(format!(
            "JSONPath {path:?}: only object members can be removed"
        ));
    };
    let mut current = root;
    for seg in parents {
        let next = match (seg, current) {
            (Segment::Key(k), Value::Object(m)) => m.get_mut(k),
            (Segment::Index(i), Value::Array(a)) => a.get_mut(*i),
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return Ok(()),
        }
    }
    if let Value::Object(m) = current {
        m.remove(last);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn get_set_remove() {
        let mut v = json!({"a": {"b": [1, {"c": true}]}});
        assert_eq!(get(&v, "$.a.b[1].c").unwrap(), Some(&json!(true)));
        assert_eq!(get(&v, "$.a.x").unwrap(), None);
        set(&mut v, "$.d.e", json!("x")).unwrap();
        assert_eq!(v["d"]["e"], json!("x"));
        remove(&mut v, "$.d.e").unwrap();
        assert_eq!(v["d"], json!({}));
        assert!(get(&v, "a.b").is_err());
        let mut empty = json!(null);
        set(&mut empty, "$.phoneNumber", json!("+1")).unwrap();
        assert_eq!(empty, json!({"phoneNumber": "+1"}));
    }
}
