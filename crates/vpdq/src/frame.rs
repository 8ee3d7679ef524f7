//! One hashed video frame, and Meta's text line format for it.
//!
//! Meta's vPDQ writes one frame per line as `frameNumber,quality,pdqHex,timestamp`
//! (`vpdq/cpp/vpdq/cpp/io/vpdqio.cpp`, `outputVPDQFeatureToFile`): the frame number and
//! quality as decimal integers, the PDQ hash as 64 lowercase hex digits, and the timestamp in
//! seconds with exactly three decimals (`std::setprecision(3) << std::fixed`). Its reader
//! (`loadHashesFromFileOrDie`) splits each line on commas and rejects an empty file.

use std::fmt;

use serde::{Deserialize, Serialize};
use shopshield_pdq::Hash256;

/// Highest PDQ quality.
pub const MAX_QUALITY: u8 = 100;

/// One frame of a video hash: Meta's `vpdqFeature` (`vpdqHashType.h`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameHash {
    /// Index of the frame among the video's decoded frames, from 0.
    pub frame_number: u64,
    /// PDQ quality, 0..=100 (how much gradient the frame has; flat frames score low).
    pub quality: u8,
    /// The frame's 256-bit PDQ hash.
    pub hash: Hash256,
    /// Time of the frame in seconds from the start of the video.
    pub timestamp: f64,
}

impl FrameHash {
    /// The frame as one line of Meta's format, without the newline:
    /// `frameNumber,quality,pdqHex,timestamp` with the timestamp to three decimals.
    pub fn to_line(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for FrameHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{},{},{},{:.3}",
            self.frame_number,
            self.quality,
            self.hash.to_hex(),
            self.timestamp
        )
    }
}

/// A field of a hash-list line, named as Meta names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The first field, the frame number.
    FrameNumber,
    /// The second field, the PDQ quality.
    Quality,
    /// The third field, the PDQ hash in hex.
    PdqHex,
    /// The fourth field, the timestamp in seconds.
    Timestamp,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::FrameNumber => "frameNumber",
            Field::Quality => "quality",
            Field::PdqHex => "pdqHex",
            Field::Timestamp => "timestamp",
        })
    }
}

/// Why a hash list could not be read. Every variant names the line (counted from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The list has no frames.
    #[error("the vPDQ hash list has no frames")]
    Empty,
    /// A line does not have exactly four comma-separated fields.
    #[error(
        "line {line}: expected 4 comma-separated fields (frameNumber,quality,pdqHex,timestamp), found {found}"
    )]
    FieldCount {
        /// Line number, from 1.
        line: usize,
        /// Number of fields found.
        found: usize,
    },
    /// A field is present but invalid.
    #[error("line {line}: {field} {value:?} is invalid: {reason}")]
    Field {
        /// Line number, from 1.
        line: usize,
        /// Which field.
        field: Field,
        /// The field's text (cut to 80 characters).
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The list has more frames than the caller allows.
    #[error("the vPDQ hash list has more than {max} frames")]
    TooManyFrames {
        /// The limit.
        max: usize,
    },
    /// The text looked like python-threatexchange's JSON form but is not valid JSON of it.
    #[error("not a valid python-threatexchange vPDQ JSON signal: {0}")]
    Json(String),
}

fn field_error(line: usize, field: Field, value: &str, reason: impl Into<String>) -> ParseError {
    let value: String = value.chars().take(80).collect();
    ParseError::Field {
        line,
        field,
        value,
        reason: reason.into(),
    }
}

fn parse_quality(line: usize, text: &str) -> Result<u8, ParseError> {
    let q: i64 = text
        .parse()
        .map_err(|_| field_error(line, Field::Quality, text, "not an integer"))?;
    if !(0..=i64::from(MAX_QUALITY)).contains(&q) {
        return Err(field_error(
            line,
            Field::Quality,
            text,
            "quality is between 0 and 100",
        ));
    }
    Ok(q as u8)
}

fn parse_hash(line: usize, text: &str) -> Result<Hash256, ParseError> {
    Hash256::from_hex(text).map_err(|e| field_error(line, Field::PdqHex, text, e.to_string()))
}

fn parse_timestamp(line: usize, text: &str) -> Result<f64, ParseError> {
    // Rust's float parser also accepts "inf" and "NaN"; a timestamp is a plain number.
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    let t: f64 = if plain { text.parse().ok() } else { None }
        .ok_or_else(|| field_error(line, Field::Timestamp, text, "not a number"))?;
    if !t.is_finite() || t < 0.0 {
        return Err(field_error(
            line,
            Field::Timestamp,
            text,
            "a timestamp is a finite number of seconds, at least 0",
        ));
    }
    Ok(t)
}

/// Parses one line of Meta's format, `frameNumber,quality,pdqHex,timestamp`. `line` is the
/// line number used in errors. Spaces around fields and a trailing carriage return are
/// allowed; anything else is an error naming the field.
pub fn parse_line(text: &str, line: usize) -> Result<FrameHash, ParseError> {
    let text = text.trim_end_matches(['\r', '\n']);
    let fields: Vec<&str> = text.split(',').map(str::trim).collect();
    if fields.len() != 4 {
        return Err(ParseError::FieldCount {
            line,
            found: fields.len(),
        });
    }
    let frame_number: u64 = fields[0]
        .parse()
        .map_err(|_| field_error(line, Field::FrameNumber, fields[0], "not a whole number"))?;
    let quality = parse_quality(line, fields[1])?;
    let hash = parse_hash(line, fields[2])?;
    let timestamp = parse_timestamp(line, fields[3])?;
    Ok(FrameHash {
        frame_number,
        quality,
        hash,
        timestamp,
    })
}

/// Parses a whole hash list in Meta's line format. Blank lines are skipped; an empty list is
/// an error (as in Meta's reader).
pub fn parse_hash_list(text: &str) -> Result<Vec<FrameHash>, ParseError> {
    parse_hash_list_with_limit(text, usize::MAX)
}

/// Like [`parse_hash_list`], failing with [`ParseError::TooManyFrames`] past `max_frames`.
pub fn parse_hash_list_with_limit(
    text: &str,
    max_frames: usize,
) -> Result<Vec<FrameHash>, ParseError> {
    let mut frames = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if frames.len() >= max_frames {
            return Err(ParseError::TooManyFrames { max: max_frames });
        }
        frames.push(parse_line(line, i + 1)?);
    }
    if frames.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(frames)
}

/// Parses python-threatexchange's vPDQ signal string: a JSON array of `"pdqHex,quality,timestamp"`
/// strings (`VpdqCompactFeature` in `threatexchange/extensions/vpdq/vpdq_util.py`). That form
/// has no frame numbers; frames are numbered by position. Errors name the array element
/// (counted from 1) as the line.
pub fn parse_threatexchange_json(text: &str) -> Result<Vec<FrameHash>, ParseError> {
    parse_threatexchange_json_with_limit(text, usize::MAX)
}

fn parse_threatexchange_json_with_limit(
    text: &str,
    max_frames: usize,
) -> Result<Vec<FrameHash>, ParseError> {
    let items: Vec<String> =
        serde_json::from_str(text).map_err(|e| ParseError::Json(e.to_string()))?;
    if items.len() > max_frames {
        return Err(ParseError::TooManyFrames { max: max_frames });
    }
    let mut frames = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let line = i + 1;
        let fields: Vec<&str> = item.split(',').map(str::trim).collect();
        if fields.len() != 3 {
            return Err(ParseError::FieldCount {
                line,
                found: fields.len(),
            });
        }
        frames.push(FrameHash {
            frame_number: i as u64,
            hash: parse_hash(line, fields[0])?,
            quality: parse_quality(line, fields[1])?,
            timestamp: parse_timestamp(line, fields[2])?,
        });
    }
    if frames.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(frames)
}

/// Parses either form: python-threatexchange's JSON array when the text starts with `[`,
/// otherwise Meta's line format. At most `max_frames` frames.
pub fn parse_any(text: &str, max_frames: usize) -> Result<Vec<FrameHash>, ParseError> {
    if text.trim_start().starts_with('[') {
        parse_threatexchange_json_with_limit(text, max_frames)
    } else {
        parse_hash_list_with_limit(text, max_frames)
    }
}

/// Formats frames in Meta's line format, one line each, every line ending in `\n`.
pub fn format_hash_list(frames: &[FrameHash]) -> String {
    let mut out = String::with_capacity(frames.len() * 80);
    for f in frames {
        out.push_str(&f.to_line());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c";

    #[test]
    fn formats_like_meta() {
        let f = FrameHash {
            frame_number: 25,
            quality: 100,
            hash: Hash256::from_hex(H).unwrap(),
            timestamp: 1.0,
        };
        assert_eq!(f.to_line(), format!("25,100,{H},1.000"));
        let g = FrameHash {
            timestamp: 2.0 / 30.0,
            ..f
        };
        assert_eq!(g.to_line(), format!("25,100,{H},0.067"));
    }

    #[test]
    fn parses_meta_sample_lines() {
        let text = format!("0,100,{H},0.000\r\n\n1,99,{H},0.033\n");
        let frames = parse_hash_list(&text).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].frame_number, 1);
        assert_eq!(frames[1].quality, 99);
        assert_eq!(frames[1].timestamp, 0.033);
        assert_eq!(frames[1].hash.to_hex(), H);
    }

    #[test]
    fn errors_name_line_and_field() {
        let bad = |text: &str| parse_hash_list(text).unwrap_err();
        assert_eq!(bad(""), ParseError::Empty);
        assert_eq!(bad("\n \n"), ParseError::Empty);
        assert_eq!(
            bad(&format!("0,100,{H},0.0\n1,100,{H}")),
            ParseError::FieldCount { line: 2, found: 3 }
        );
        let e = bad(&format!("0,100,{H},0.0\n\nx,100,{H},1.0"));
        assert!(matches!(
            e,
            ParseError::Field {
                line: 3,
                field: Field::FrameNumber,
                ..
            }
        ));
        assert!(
            e.to_string().starts_with("line 3: frameNumber \"x\""),
            "{e}"
        );
        let e = bad(&format!("0,101,{H},0.0"));
        assert!(matches!(
            e,
            ParseError::Field {
                field: Field::Quality,
                ..
            }
        ));
        let e = bad("0,100,abc,0.0");
        assert!(matches!(
            e,
            ParseError::Field {
                field: Field::PdqHex,
                ..
            }
        ));
        for t in ["-1", "inf", "NaN", "", "1.0s"] {
            let e = bad(&format!("0,100,{H},{t}"));
            assert!(
                matches!(
                    e,
                    ParseError::Field {
                        field: Field::Timestamp,
                        ..
                    }
                ),
                "{t}: {e}"
            );
        }
        assert_eq!(
            parse_hash_list_with_limit(&format!("0,1,{H},0\n1,1,{H},1\n"), 1).unwrap_err(),
            ParseError::TooManyFrames { max: 1 }
        );
    }

    #[test]
    fn threatexchange_json() {
        let text = format!("[\"{H},100,0.0\", \"{H},50,1.0\"]");
        let frames = parse_any(&text, 10).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].frame_number, 1);
        assert_eq!(frames[1].quality, 50);
        assert!(matches!(
            parse_any("[1, 2]", 10).unwrap_err(),
            ParseError::Json(_)
        ));
        assert_eq!(
            parse_any(&format!("[\"{H},100\"]"), 10).unwrap_err(),
            ParseError::FieldCount { line: 1, found: 2 }
        );
        assert_eq!(parse_any("[]", 10).unwrap_err(), ParseError::Empty);
    }
}
