//! [`ContentStore`] on PostgreSQL: short videos and livestream sessions.
//!
//! A video's next version is written only where the stored row still has
//! the version before it and the same creator (`UPDATE ... WHERE version =
//! v - 1`, re-checked against a concurrent writer's committed row); a new
//! video only where the id is free. A stream update never touches a
//! stopped stream (`WHERE status <> 'stopped'`), so a stop is final across
//! processes.

use postgres::Row;
use shopshield_store::{ContentStore, Result, StoreError, StoredStream, StoredVideo};

use crate::PgStore;
use crate::conn::{col, conflict_as, json_col, to_json, u32_col};

fn video_from(row: &Row) -> Result<StoredVideo> {
    Ok(StoredVideo {
        video: json_col(row, 0, "video_versions.doc")?,
        version: u32_col(row, 1, "video_versions.version")?,
        content_hash: col(row, 2, "video_versions.content_hash")?,
        decision: json_col(row, 3, "video_versions.decision")?,
        submitted_at: col(row, 4, "video_versions.submitted_at")?,
    })
}

fn stream_from(row: &Row) -> Result<StoredStream> {
    Ok(StoredStream {
        id: col(row, 0, "streams.id")?,
        host_id: col(row, 1, "streams.host_id")?,
        status: col(row, 2, "streams.status")?,
        doc: json_col(row, 3, "streams.doc")?,
        updated_at: col(row, 4, "streams.updated_at")?,
    })
}

const VIDEO_COLUMNS: &str = "v.doc, v.version, v.content_hash, v.decision, v.submitted_at";

impl ContentStore for PgStore {
    fn record_video(&self, s: &StoredVideo) -> Result<()> {
        let doc = to_json(&s.video)?;
        let decision = to_json(&s.decision)?;
        let version = i64::from(s.version);
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let written = if s.version == 1 {
            tx.execute(
                "INSERT INTO videos (id, creator_id, version, content_hash, action, updated_at) \
                 VALUES ($1, $2, 1, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                &[
                    &s.video.id,
                    &s.video.creator_id,
                    &s.content_hash,
                    &s.decision.action.as_str(),
                    &s.submitted_at,
                ],
            )?
        } else {
            tx.execute(
                "UPDATE videos SET version = $3, content_hash = $4, action = $5, updated_at = $6 \
                 WHERE id = $1 AND creator_id = $2 AND version = $7",
                &[
                    &s.video.id,
                    &s.video.creator_id,
                    &version,
                    &s.content_hash,
                    &s.decision.action.as_str(),
                    &s.submitted_at,
                    &(version - 1),
                ],
            )?
        };
        if written != 1 {
            return Err(StoreError::Conflict(format!(
                "video {:?}: version {} is stale, or the video belongs to another creator",
                s.video.id, s.version
            )));
        }
        tx.execute(
            "INSERT INTO video_versions (video_id, version, content_hash, doc, decision, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &s.video.id,
                &version,
                &s.content_hash,
                &doc,
                &decision,
                &s.submitted_at,
            ],
        )
        .map_err(|e| {
            conflict_as(e, || {
                format!("video {:?} version {} exists", s.video.id, s.version)
            })
        })?;
        tx.commit()
    }

    fn latest_video(&self, id: &str) -> Result<Option<StoredVideo>> {
        self.conn()?
            .query_opt(
                &format!(
                    "SELECT {VIDEO_COLUMNS} FROM videos l JOIN video_versions v \
                     ON v.video_id = l.id AND v.version = l.version WHERE l.id = $1"
                ),
                &[&id],
            )?
            .as_ref()
            .map(video_from)
            .transpose()
    }

    fn video_history(&self, id: &str) -> Result<Vec<StoredVideo>> {
        self.conn()?
            .query(
                &format!(
                    "SELECT {VIDEO_COLUMNS} FROM video_versions v WHERE v.video_id = $1 \
                     ORDER BY v.version"
                ),
                &[&id],
            )?
            .iter()
            .map(video_from)
            .collect()
    }

    fn insert_stream(&self, s: &StoredStream) -> Result<()> {
        let doc = to_json(&s.doc)?;
        let n = self.conn()?.execute(
            "INSERT INTO streams (id, host_id, status, doc, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (id) DO NOTHING",
            &[&s.id, &s.host_id, &s.status, &doc, &s.updated_at],
        )?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "stream {:?} already exists",
                s.id
            )));
        }
        Ok(())
    }

    fn update_stream(&self, s: &StoredStream) -> Result<()> {
        let doc = to_json(&s.doc)?;
        let n = self.conn()?.execute(
            "UPDATE streams SET status = $2, doc = $3, updated_at = $4 \
             WHERE id = $1 AND status <> 'stopped'",
            &[&s.id, &s.status, &doc, &s.updated_at],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "stream {:?} does not exist or was stopped",
                s.id
            )));
        }
        Ok(())
    }

    fn stream(&self, id: &str) -> Result<Option<StoredStream>> {
        self.conn()?
            .query_opt(
                "SELECT id, host_id, status, doc, updated_at FROM streams WHERE id = $1",
                &[&id],
            )?
            .as_ref()
            .map(stream_from)
            .transpose()
    }

    fn video_versions_after(
        &self,
        after: Option<(&str, u32)>,
        limit: usize,
    ) -> Result<Vec<StoredVideo>> {
        let (id, version) = after.unwrap_or(("", 0));
        let (version, limit) = (i64::from(version), limit as i64);
        self.conn()?
            .query(
                &format!(
                    "SELECT {VIDEO_COLUMNS} FROM video_versions v \
                     WHERE (v.video_id, v.version) > ($1, $2) \
                     ORDER BY v.video_id, v.version LIMIT $3"
                ),
                &[&id, &version, &limit],
            )?
            .iter()
            .map(video_from)
            .collect()
    }

    fn stopped_streams_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredStream>> {
        let limit = limit as i64;
        self.conn()?
            .query(
                "SELECT id, host_id, status, doc, updated_at FROM streams \
                 WHERE status = 'stopped' AND id > $1 ORDER BY id LIMIT $2",
                &[&after.unwrap_or(""), &limit],
            )?
            .iter()
            .map(stream_from)
            .collect()
    }
}
