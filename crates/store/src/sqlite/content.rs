//! [`ContentStore`] on SQLite: short videos and livestream sessions.

use rusqlite::{OptionalExtension, params};

use super::{begin, conflict_or, from_json, parse_ts, to_json, ts};
use crate::{ContentStore, Result, SqliteStore, StoreError, StoredStream, StoredVideo};

type RawVideo = (String, u32, String, String, String);

fn video_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawVideo> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn video_from(t: RawVideo) -> Result<StoredVideo> {
    Ok(StoredVideo {
        video: from_json("video_versions.doc", &t.0)?,
        version: t.1,
        content_hash: t.2,
        decision: from_json("video_versions.decision", &t.3)?,
        submitted_at: parse_ts("video_versions.submitted_at", &t.4)?,
    })
}

type RawStream = (String, String, String, String, String);

fn stream_from(t: RawStream) -> Result<StoredStream> {
    Ok(StoredStream {
        id: t.0,
        host_id: t.1,
        status: t.2,
        doc: from_json("streams.doc", &t.3)?,
        updated_at: parse_ts("streams.updated_at", &t.4)?,
    })
}

const VIDEO_COLUMNS: &str = "v.doc, v.version, v.content_hash, v.decision, v.submitted_at";

impl ContentStore for SqliteStore {
    fn record_video(&self, s: &StoredVideo) -> Result<()> {
        let doc = to_json(&s.video)?;
        let decision = to_json(&s.decision)?;
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let prior: Option<(String, u32)> = tx
            .prepare_cached("SELECT creator_id, version FROM videos WHERE id = ?1")?
            .query_row([&s.video.id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let expected = prior.as_ref().map_or(1, |p| p.1 + 1);
        if let Some((creator, _)) = &prior
            && creator != &s.video.creator_id
        {
            return Err(StoreError::Conflict(format!(
                "video {:?} belongs to another creator",
                s.video.id
            )));
        }
        if s.version != expected {
            return Err(StoreError::Conflict(format!(
                "video {:?}: version {} was expected, not {}",
                s.video.id, expected, s.version
            )));
        }
        tx.prepare_cached(
            "INSERT INTO videos (id, creator_id, version, content_hash, action, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET \
             version = excluded.version, content_hash = excluded.content_hash, \
             action = excluded.action, updated_at = excluded.updated_at",
        )?
        .execute(params![
            s.video.id,
            s.video.creator_id,
            s.version,
            s.content_hash,
            s.decision.action.as_str(),
            ts(s.submitted_at)
        ])?;
        tx.prepare_cached(
            "INSERT INTO video_versions (video_id, version, content_hash, doc, decision, submitted_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            s.video.id,
            s.version,
            s.content_hash,
            doc,
            decision,
            ts(s.submitted_at)
        ])
        .map_err(|e| conflict_or(e, || format!("video {:?} version {} exists", s.video.id, s.version)))?;
        tx.commit()?;
        Ok(())
    }

    fn latest_video(&self, id: &str) -> Result<Option<StoredVideo>> {
        self.read()
            .prepare_cached(&format!(
                "SELECT {VIDEO_COLUMNS} FROM videos l JOIN video_versions v \
                 ON v.video_id = l.id AND v.version = l.version WHERE l.id = ?1"
            ))?
            .query_row([id], video_row)
            .optional()?
            .map(video_from)
            .transpose()
    }

    fn video_history(&self, id: &str) -> Result<Vec<StoredVideo>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {VIDEO_COLUMNS} FROM video_versions v WHERE v.video_id = ?1 ORDER BY v.version"
        ))?;
        let rows = st.query_map([id], video_row)?;
        rows.map(|r| video_from(r?)).collect()
    }

    fn insert_stream(&self, s: &StoredStream) -> Result<()> {
        let doc = to_json(&s.doc)?;
        self.write()
            .prepare_cached(
                "INSERT INTO streams (id, host_id, status, doc, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![s.id, s.host_id, s.status, doc, ts(s.updated_at)])
            .map_err(|e| conflict_or(e, || format!("stream {:?} already exists", s.id)))?;
        Ok(())
    }

    fn update_stream(&self, s: &StoredStream) -> Result<()> {
        let doc = to_json(&s.doc)?;
        let n = self
            .write()
            .prepare_cached(
                "UPDATE streams SET status = ?2, doc = ?3, updated_at = ?4 \
                 WHERE id = ?1 AND status <> 'stopped'",
            )?
            .execute(params![s.id, s.status, doc, ts(s.updated_at)])?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "stream {:?} does not exist or was stopped",
                s.id
            )));
        }
        Ok(())
    }

    fn stream(&self, id: &str) -> Result<Option<StoredStream>> {
        self.read()
            .prepare_cached(
                "SELECT id, host_id, status, doc, updated_at FROM streams WHERE id = ?1",
            )?
            .query_row([id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?
            .map(stream_from)
            .transpose()
    }

    fn video_versions_after(
        &self,
        after: Option<(&str, u32)>,
        limit: usize,
    ) -> Result<Vec<StoredVideo>> {
        let (id, version) = after.unwrap_or(("", 0));
        let conn = self.read();
        let mut st = conn.prepare_cached(&format!(
            "SELECT {VIDEO_COLUMNS} FROM video_versions v \
             WHERE v.video_id > ?1 OR (v.video_id = ?1 AND v.version > ?2) \
             ORDER BY v.video_id, v.version LIMIT ?3"
        ))?;
        let rows = st.query_map(params![id, version, limit as i64], video_row)?;
        rows.map(|r| video_from(r?)).collect()
    }

    fn stopped_streams_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredStream>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT id, host_id, status, doc, updated_at FROM streams \
             WHERE status = 'stopped' AND id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![after.unwrap_or(""), limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?;
        rows.map(|r| stream_from(r?)).collect()
    }
}
