//! Intake: the first stage of the flow. Turns bytes from outside (HTTP
//! bodies, JSONL files, image references) into checked model values, or into
//! an [`IntakeError`] that says which line or field is wrong and why.

use std::io::BufRead;
use std::path::Path;

use serde::de::DeserializeOwned;
use shopshield_model::ValidationError;

/// Longest accepted JSONL line, in bytes.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;
/// Largest accepted image, in bytes (before decoding).
pub const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;

/// Why a piece of input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// Not JSON at all, or truncated.
    #[error("malformed JSON at line {line}, column {column}: {reason}")]
    Syntax {
        line: usize,
        column: usize,
        reason: String,
    },
    /// JSON of the wrong shape or with a bad value.
    #[error("{0}")]
    Invalid(ValidationError),
    /// Over a size limit.
    #[error("{what} is {size} bytes; the limit is {limit}")]
    TooLarge {
        what: String,
        size: usize,
        limit: usize,
    },
    /// An image reference that cannot be read.
    #[error("{field}: {reason}")]
    Image { field: String, reason: String },
    /// The input stream itself failed.
    #[error("cannot read input: {0}")]
    Io(String),
}

impl IntakeError {
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            IntakeError::Invalid(v) => Some(&v.field),
            IntakeError::Image { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<ValidationError> for IntakeError {
    fn from(v: ValidationError) -> Self {
        IntakeError::Invalid(v)
    }
}

/// Parses one JSON document into `T`, naming the field of a shape error
/// (`price.amount`, `images[2]`...).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, IntakeError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        classify(path, inner)
    })?;
    de.end().map_err(|e| IntakeError::Syntax {
        line: e.line(),
        column: e.column(),
        reason: "trailing characters after the JSON document".into(),
    })?;
    Ok(value)
}

fn classify(path: String, e: serde_json::Error) -> IntakeError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => IntakeError::Syntax {
            line: e.line(),
            column: e.column(),
            reason: strip_position(&e.to_string()),
        },
        Category::Data => {
            let reason = strip_position(&e.to_string());
            // A missing field is reported on its parent; name the field.
            let field = match (path.as_str(), missing_field(&reason)) {
                (".", Some(f)) => f.to_string(),
                (p, Some(f)) => format!("{p}.{f}"),
                (".", None) => "(document)".to_string(),
                (p, None) => p.to_string(),
            };
            IntakeError::Invalid(ValidationError::new(field, reason))
        }
    }
}

fn missing_field(reason: &str) -> Option<&str> {
    let rest = reason.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// One line of a JSONL stream: its 1-based number and what it held.
#[derive(Debug)]
pub struct Line<T> {
    pub number: usize,
    pub value: Result<T, IntakeError>,
}

/// Reads JSONL, one value per non-blank line. A bad line yields an error
/// for that line and reading goes on; an I/O failure ends the stream.
pub struct JsonlReader<R, T> {
    reader: R,
    number: usize,
    buf: Vec<u8>,
    done: bool,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<R: BufRead, T: DeserializeOwned> JsonlReader<R, T> {
    pub fn new(reader: R) -> Self {
        JsonlReader {
            reader,
            number: 0,
            buf: Vec::new(),
            done: false,
            _t: std::marker::PhantomData,
        }
    }
}

impl<R: BufRead, T: DeserializeOwned> Iterator for JsonlReader<R, T> {
    type Item = Line<T>;

    fn next(&mut self) -> Option<Line<T>> {
        loop {
            if self.done {
                return None;
            }
            self.buf.clear();
            // Read at most one byte past the limit, so a huge line cannot
            // exhaust memory; the rest of it is skipped below.
            let mut limited = std::io::Read::take(&mut self.reader, MAX_LINE_BYTES as u64 + 1);
            let n = match limited.read_until(b'\n', &mut self.buf) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    self.number += 1;
                    return Some(Line {
                        number: self.number,
                        value: Err(IntakeError::Io(e.to_string())),
                    });
                }
            };
            if n == 0 {
                self.done = true;
                return None;
            }
            self.number += 1;
            if self.buf.len() > MAX_LINE_BYTES && self.buf.last() != Some(&b'\n') {
                let size = self.buf.len() + skip_line(&mut self.reader);
                return Some(Line {
                    number: self.number,
                    value: Err(IntakeError::TooLarge {
                        what: format!("line {}", self.number),
                        size,
                        limit: MAX_LINE_BYTES,
                    }),
                });
            }
            let text = trim_ascii(&self.buf);
            if text.is_empty() {
                continue;
            }
            return Some(Line {
                number: self.number,
                value: parse_json(text),
            });
        }
    }
}

fn skip_line<R: BufRead>(r: &mut R) -> usize {
    let mut skipped = 0;
    loop {
        let (done, used) = match r.fill_buf() {
            Ok([]) | Err(_) => return skipped,
            Ok(buf) => match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, buf.len()),
            },
        };
        r.consume(used);
        skipped += used;
        if done {
            return skipped;
        }
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    b.trim_ascii()
}

/// Where an image reference may be read from.
#[derive(Debug, Clone, Copy)]
pub enum ImageBase<'a> {
    /// Relative paths resolve against this directory (a JSONL file's), and
    /// the file must lie under it (after symbolic links are resolved).
    Dir(&'a Path),
    /// Relative paths resolve against `dir`; the file must lie under
    /// `root` (after symbolic links are resolved).
    Under { dir: &'a Path, root: &'a Path },
    /// Relative paths resolve against this directory; any readable file
    /// is accepted (the operator said so).
    Anywhere(&'a Path),
    /// Only `data:` URLs are accepted (HTTP bodies).
    DataOnly,
}

/// Reads the bytes an image reference points at: a `data:` URL, or (with
/// [`ImageBase::Dir`]) a path relative to that directory.
pub fn read_image(
    field: &str,
    reference: &str,
    base: ImageBase<'_>,
) -> Result<Vec<u8>, IntakeError> {
    read_reference(field, reference, base, MAX_IMAGE_BYTES)
}

/// Largest video (or vPDQ hash list) read into memory from a reference.
pub const MAX_VIDEO_BYTES: usize = 256 * 1024 * 1024;

/// Reads the bytes a video reference points at (an MP4 or WebM file, or a
/// vPDQ hash list), as [`read_image`] does for images, up to
/// [`MAX_VIDEO_BYTES`].
pub fn read_video(
    field: &str,
    reference: &str,
    base: ImageBase<'_>,
) -> Result<Vec<u8>, IntakeError> {
    read_reference(field, reference, base, MAX_VIDEO_BYTES)
}

fn read_reference(
    field: &str,
    reference: &str,
    base: ImageBase<'_>,
    limit: usize,
) -> Result<Vec<u8>, IntakeError> {
    let err = |reason: String| IntakeError::Image {
        field: field.to_string(),
        reason,
    };
    if reference.starts_with("data:") {
        let url = data_url::DataUrl::process(reference)
            .map_err(|_| err("not a valid data: URL (data:image/...;base64,...)".into()))?;
        let (bytes, _) = url
            .decode_to_vec()
            .map_err(|_| err("the data: URL's base64 payload is invalid".into()))?;
        if bytes.len() > limit {
            return Err(IntakeError::TooLarge {
                what: field.to_string(),
                size: bytes.len(),
                limit,
            });
        }
        return Ok(bytes);
    }
    let (dir, root) = match base {
        ImageBase::Dir(dir) => (dir, Some(dir)),
        ImageBase::Under { dir, root } => (dir, Some(root)),
        ImageBase::Anywhere(dir) => (dir, None),
        ImageBase::DataOnly => {
            return Err(err(
                "only data: URLs are accepted here; embed the image as data:image/...;base64,..."
                    .into(),
            ));
        }
    };
    if reference.contains("://") {
        return Err(err(
            "remote URLs are not fetched; use a relative path or a data: URL".into(),
        ));
    }
    let path = dir.join(reference);
    if let Some(root) = root {
        let outside = || {
            err(format!(
                "{reference} is outside {}; images are read only under the listings file's directory (see --image-root, --allow-images-anywhere)",
                root.display()
            ))
        };
        let root = std::fs::canonicalize(root)
            .map_err(|e| err(format!("cannot read {}: {e}", root.display())))?;
        let real = std::fs::canonicalize(&path)
            .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
        if !real.starts_with(&root) {
            return Err(outside());
        }
    }
    let meta = std::fs::metadata(&path)
        .map_err(|e| err(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(err(format!("{} is not a file", path.display())));
    }
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if size > limit {
        return Err(IntakeError::TooLarge {
            what: field.to_string(),
            size,
            limit,
        });
    }
    std::fs::read(&path).map_err(|e| err(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopshield_model::{Listing, NewRight};

    #[test]
    fn names_missing_and_bad_fields() {
        let e = parse_json::<Listing>(br#"{"id":"l","shop_id":"s","region":"US","category":"x"}"#)
            .unwrap_err();
        assert_eq!(e.field(), Some("title"), "{e}");
        let e = parse_json::<Listing>(
            br#"{"id":"l","shop_id":"s","region":"US","category":"x","title":"t","price":{"amount":"cheap","currency":"USD"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("price.amount"), "{e}");
        let e = parse_json::<Listing>(
            br#"{"id":"l","shop_id":"s","region":"QQ","category":"x","title":"t"}"#,
        )
        .unwrap_err();
        assert_eq!(e.field(), Some("region"), "{e}");
        let e =
            parse_json::<NewRight>(br#"{"id":"r","holder":"h","kind":"patent","regions":["*"]}"#)
                .unwrap_err();
        assert_eq!(e.field(), Some("kind"), "{e}");
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_json::<Listing>(b"{\"id\": ").unwrap_err();
        assert!(matches!(e, IntakeError::Syntax { line: 1, .. }), "{e}");
        let e = parse_json::<Listing>(b"[1] x").unwrap_err();
        assert!(
            matches!(e, IntakeError::Syntax { .. } | IntakeError::Invalid(_)),
            "{e}"
        );
    }

    #[test]
    fn jsonl_numbers_lines_and_keeps_going() {
        let input = "\u{feff}{\"a\":1}\n\nnot json\n{\"a\":2}\n";
        #[derive(serde::Deserialize, Debug)]
        struct A {
            #[allow(dead_code)]
            a: i32,
        }
        let lines: Vec<Line<A>> = JsonlReader::new(input.as_bytes()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].number, 1);
        assert!(lines[0].value.is_ok());
        assert_eq!(lines[1].number, 3);
        assert!(lines[1].value.is_err());
        assert_eq!(lines[2].number, 4);
    }

    #[test]
    fn overlong_lines_are_refused_not_buffered() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\n{\"a\":1}\n");
        let lines: Vec<Line<serde_json::Value>> = JsonlReader::new(&input[..]).collect();
        assert!(matches!(lines[0].value, Err(IntakeError::TooLarge { .. })));
        assert_eq!(lines[1].number, 2);
        assert!(lines[1].value.is_ok());
    }

    #[test]
    fn images() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.png"), b"PNGDATA").unwrap();
        assert_eq!(
            read_image("image", "a.png", ImageBase::Dir(dir.path())).unwrap(),
            b"PNGDATA"
        );
        assert!(read_image("image", "b.png", ImageBase::Dir(dir.path())).is_err());
        assert!(read_image("image", "a.png", ImageBase::DataOnly).is_err());
        assert!(read_image("image", "https://x/y.png", ImageBase::Dir(dir.path())).is_err());
        // Confined to the directory unless the operator allows more.
        let inner = dir.path().join("listings");
        std::fs::create_dir(&inner).unwrap();
        let e = read_image("image", "../a.png", ImageBase::Dir(&inner)).unwrap_err();
        assert!(e.to_string().contains("outside"), "{e}");
        let abs = dir.path().join("a.png");
        let abs = abs.to_str().unwrap();
        assert!(read_image("image", abs, ImageBase::Dir(&inner)).is_err());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("a.png"), inner.join("link.png")).unwrap();
            assert!(read_image("image", "link.png", ImageBase::Dir(&inner)).is_err());
        }
        let under = ImageBase::Under {
            dir: &inner,
            root: dir.path(),
        };
        assert_eq!(read_image("image", "../a.png", under).unwrap(), b"PNGDATA");
        assert_eq!(
            read_image("image", abs, ImageBase::Anywhere(&inner)).unwrap(),
            b"PNGDATA"
        );
        let bytes = read_image(
            "image",
            "data:image/png;base64,UE5HREFUQQ==",
            ImageBase::DataOnly,
        )
        .unwrap();
        assert_eq!(bytes, b"PNGDATA");
        assert!(read_image("image", "data:image/png;base64,%%%", ImageBase::DataOnly).is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_json::<Listing>(&bytes);
            let _: Vec<Line<Listing>> = JsonlReader::new(&bytes[..]).collect();
        }
    }
}
