//! [`NoticeStore`] on SQLite: notices and their items.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use shopshield_model::NoticeItemState;

use super::outbox::insert_outbox;
use super::{begin, from_json, limit_i64, to_json, ts};
use crate::{
    Filed, NoticeFilter, NoticeItemRecord, NoticeRecord, NoticeStore, OutboxRow, Result,
    SqliteStore, StoreError, StoredNotice,
};

fn items_of(conn: &rusqlite::Connection, notice_id: &str) -> Result<Vec<NoticeItemRecord>> {
    let mut st =
        conn.prepare_cached("SELECT doc FROM notice_items WHERE notice_id = ?1 ORDER BY position")?;
    let rows = st.query_map([notice_id], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for doc in rows {
        out.push(from_json("notice_items.doc", &doc?)?);
    }
    Ok(out)
}

fn notice_of(conn: &rusqlite::Connection, id: &str) -> Result<Option<NoticeRecord>> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT doc FROM notices WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(doc) = doc else { return Ok(None) };
    let stored: StoredNotice = from_json("notices.doc", &doc)?;
    let items = items_of(conn, id)?;
    Ok(Some(NoticeRecord { stored, items }))
}

fn items_from(
    rows: impl Iterator<Item = rusqlite::Result<String>>,
) -> Result<Vec<NoticeItemRecord>> {
    let mut out = Vec::new();
    for doc in rows {
        out.push(from_json("notice_items.doc", &doc?)?);
    }
    Ok(out)
}

impl NoticeStore for SqliteStore {
    fn file_notice(&self, notice: &StoredNotice, items: &[NoticeItemRecord]) -> Result<Filed> {
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let id = &notice.notice.id;
        let existing: Option<String> = tx
            .prepare_cached("SELECT content_hash FROM notices WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        if let Some(hash) = existing {
            if hash != notice.content_hash {
                return Err(StoreError::Conflict(format!(
                    "notice {id:?} was filed before with other content"
                )));
            }
            let rec = notice_of(&tx, id)?
                .ok_or_else(|| StoreError::Database(format!("notice {id:?} vanished")))?;
            return Ok(Filed::Existing(rec));
        }
        tx.prepare_cached(
            "INSERT INTO notices (id, holder_id, content_hash, received_at, doc) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            id,
            notice.holder_id,
            notice.content_hash,
            ts(notice.received_at),
            to_json(notice)?
        ])?;
        {
            let mut st = tx.prepare_cached(
                "INSERT INTO notice_items (notice_id, item_id, position, shop_id, state, version, \
                 received_at, due_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for (i, it) in items.iter().enumerate() {
                st.execute(params![
                    id,
                    it.item_id,
                    i as i64,
                    it.shop_id,
                    it.state.as_str(),
                    it.version,
                    ts(notice.received_at),
                    it.due_at.map(ts),
                    to_json(it)?
                ])?;
            }
        }
        tx.commit()?;
        Ok(Filed::New(NoticeRecord {
            stored: notice.clone(),
            items: items.to_vec(),
        }))
    }

    fn notice(&self, id: &str) -> Result<Option<NoticeRecord>> {
        notice_of(&self.read(), id)
    }

    fn notices(&self, f: &NoticeFilter) -> Result<Vec<NoticeRecord>> {
        let conn = self.read();
        let ids: Vec<String> = {
            let mut st = conn.prepare_cached(
                "SELECT n.id FROM notices n WHERE (?1 IS NULL OR n.holder_id = ?1) \
                 AND (?4 IS NULL OR n.id > ?4) \
                 AND ((?2 IS NULL AND ?3 IS NULL) OR EXISTS (SELECT 1 FROM notice_items i \
                      WHERE i.notice_id = n.id AND (?2 IS NULL OR i.shop_id = ?2) \
                      AND (?3 IS NULL OR i.state = ?3))) \
                 ORDER BY n.id LIMIT ?5",
            )?;
            let rows = st.query_map(
                params![
                    f.holder_id,
                    f.shop_id,
                    f.state.map(|s| s.as_str()),
                    f.after,
                    limit_i64(f.limit)
                ],
                |r| r.get(0),
            )?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(n) = notice_of(&conn, &id)? {
                out.push(n);
            }
        }
        Ok(out)
    }

    fn notice_items_in_state(
        &self,
        state: NoticeItemState,
        limit: usize,
    ) -> Result<Vec<NoticeItemRecord>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM notice_items WHERE state = ?1 \
             ORDER BY received_at, notice_id, position LIMIT ?2",
        )?;
        let rows = st.query_map(params![state.as_str(), limit_i64(limit)], |r| r.get(0))?;
        items_from(rows)
    }

    fn update_notice_item(&self, item: &NoticeItemRecord, outbox: &[OutboxRow]) -> Result<()> {
        let Some(expected) = item.version.checked_sub(1) else {
            return Err(StoreError::Conflict("an item's version starts at 1".into()));
        };
        let mut conn = self.write();
        let tx = begin(&mut conn)?;
        let n = tx
            .prepare_cached(
                "UPDATE notice_items SET state = ?3, version = ?4, due_at = ?5, doc = ?6 \
                 WHERE notice_id = ?1 AND item_id = ?2 AND version = ?7",
            )?
            .execute(params![
                item.notice_id,
                item.item_id,
                item.state.as_str(),
                item.version,
                item.due_at.map(ts),
                to_json(item)?,
                expected
            ])?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "item {:?} of notice {:?} was changed by someone else (or does not exist)",
                item.item_id, item.notice_id
            )));
        }
        insert_outbox(&tx, outbox)?;
        tx.commit()?;
        Ok(())
    }

    fn notice_items_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<NoticeItemRecord>> {
        let conn = self.read();
        let mut st = conn.prepare_cached(
            "SELECT doc FROM notice_items WHERE due_at IS NOT NULL AND due_at <= ?1 \
             ORDER BY due_at, notice_id, position LIMIT ?2",
        )?;
        let rows = st.query_map(params![ts(now), limit_i64(limit)], |r| r.get(0))?;
        items_from(rows)
    }

    fn accepted_notice_items(&self, shop_id: &str) -> Result<u64> {
        let conn = self.read();
        let n: i64 = conn
            .prepare_cached(
                "SELECT COUNT(*) FROM notice_items WHERE shop_id = ?1 \
                 AND state IN ('accepted', 'countered', 'restored', 'upheld')",
            )?
            .query_row([shop_id], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
