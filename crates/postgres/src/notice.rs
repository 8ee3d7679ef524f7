//! [`NoticeStore`] on PostgreSQL: notices and their items. Filing inserts
//! `ON CONFLICT DO NOTHING` and then compares with the stored notice, so
//! two processes filing one notice at once store it once; an item changes
//! only where its stored version is the one the change was computed from
//! (one statement, re-checked by PostgreSQL against a concurrent update).

use chrono::{DateTime, Utc};
use shopshield_model::NoticeItemState;
use shopshield_store::{
    Filed, NoticeFilter, NoticeItemRecord, NoticeRecord, NoticeStore, OutboxRow, Result,
    StoreError, StoredNotice,
};

use crate::PgStore;
use crate::conn::{Conn, col, corrupt, limit_i64, to_json};

fn item_from(doc: &str) -> Result<NoticeItemRecord> {
    serde_json::from_str(doc).map_err(|e| corrupt("notice_items.doc", e.to_string()))
}

fn items_of(conn: &mut Conn, notice_id: &str) -> Result<Vec<NoticeItemRecord>> {
    conn.query(
        "SELECT doc FROM notice_items WHERE notice_id = $1 ORDER BY position",
        &[&notice_id],
    )?
    .iter()
    .map(|r| item_from(col(r, 0, "notice_items.doc")?))
    .collect()
}

fn notice_of(conn: &mut Conn, id: &str) -> Result<Option<NoticeRecord>> {
    let Some(row) = conn.query_opt("SELECT doc FROM notices WHERE id = $1", &[&id])? else {
        return Ok(None);
    };
    let doc: &str = col(&row, 0, "notices.doc")?;
    let stored: StoredNotice =
        serde_json::from_str(doc).map_err(|e| corrupt("notices.doc", e.to_string()))?;
    let items = items_of(conn, id)?;
    Ok(Some(NoticeRecord { stored, items }))
}

impl NoticeStore for PgStore {
    fn file_notice(&self, notice: &StoredNotice, items: &[NoticeItemRecord]) -> Result<Filed> {
        let id = notice.notice.id.as_str();
        let doc = to_json(notice)?;
        let item_docs = items.iter().map(to_json).collect::<Result<Vec<_>>>()?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let inserted = tx.execute(
            "INSERT INTO notices (id, holder_id, content_hash, received_at, doc) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &notice.holder_id,
                &notice.content_hash,
                &notice.received_at,
                &doc,
            ],
        )?;
        if inserted == 0 {
            let row = tx.query_one("SELECT content_hash FROM notices WHERE id = $1", &[&id])?;
            let hash: &str = col(&row, 0, "notices.content_hash")?;
            if hash != notice.content_hash {
                return Err(StoreError::Conflict(format!(
                    "notice {id:?} was filed before with other content"
                )));
            }
            let rec = notice_of(&mut tx, id)?
                .ok_or_else(|| StoreError::Database(format!("notice {id:?} vanished")))?;
            return Ok(Filed::Existing(rec));
        }
        for (i, (it, doc)) in items.iter().zip(&item_docs).enumerate() {
            let position = i32::try_from(i).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO notice_items (notice_id, item_id, position, shop_id, state, version, \
                 received_at, due_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id,
                    &it.item_id,
                    &position,
                    &it.shop_id,
                    &it.state.as_str(),
                    &i64::from(it.version),
                    &notice.received_at,
                    &it.due_at,
                    doc,
                ],
            )?;
        }
        tx.commit()?;
        Ok(Filed::New(NoticeRecord {
            stored: notice.clone(),
            items: items.to_vec(),
        }))
    }

    fn notice(&self, id: &str) -> Result<Option<NoticeRecord>> {
        let mut conn = self.conn()?;
        notice_of(&mut conn, id)
    }

    fn notices(&self, f: &NoticeFilter) -> Result<Vec<NoticeRecord>> {
        let mut conn = self.conn()?;
        let state = f.state.map(|s| s.as_str());
        let ids: Vec<String> = conn
            .query(
                "SELECT n.id FROM notices n WHERE ($1::text IS NULL OR n.holder_id = $1) \
                 AND ($4::text IS NULL OR n.id > $4) \
                 AND (($2::text IS NULL AND $3::text IS NULL) OR EXISTS (SELECT 1 FROM notice_items i \
                      WHERE i.notice_id = n.id AND ($2::text IS NULL OR i.shop_id = $2) \
                      AND ($3::text IS NULL OR i.state = $3))) \
                 ORDER BY n.id LIMIT $5",
                &[
                    &f.holder_id,
                    &f.shop_id,
                    &state,
                    &f.after,
                    &limit_i64(f.limit),
                ],
            )?
            .iter()
            .map(|r| col(r, 0, "notices.id"))
            .collect::<Result<_>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(n) = notice_of(&mut conn, &id)? {
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
        self.conn()?
            .query(
                "SELECT doc FROM notice_items WHERE state = $1 \
                 ORDER BY received_at, notice_id, position LIMIT $2",
                &[&state.as_str(), &limit_i64(limit)],
            )?
            .iter()
            .map(|r| item_from(col(r, 0, "notice_items.doc")?))
            .collect()
    }

    fn update_notice_item(&self, item: &NoticeItemRecord, outbox: &[OutboxRow]) -> Result<()> {
        let Some(expected) = item.version.checked_sub(1) else {
            return Err(StoreError::Conflict("an item's version starts at 1".into()));
        };
        let doc = to_json(item)?;
        let mut conn = self.conn()?;
        let mut tx = conn.begin()?;
        let n = tx.execute(
            "UPDATE notice_items SET state = $3, version = $4, due_at = $5, doc = $6 \
             WHERE notice_id = $1 AND item_id = $2 AND version = $7",
            &[
                &item.notice_id,
                &item.item_id,
                &item.state.as_str(),
                &i64::from(item.version),
                &item.due_at,
                &doc,
                &i64::from(expected),
            ],
        )?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "item {:?} of notice {:?} was changed by someone else (or does not exist)",
                item.item_id, item.notice_id
            )));
        }
        crate::outbox::insert_outbox(&mut tx, outbox)?;
        tx.commit()?;
        Ok(())
    }

    fn notice_items_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<NoticeItemRecord>> {
        self.conn()?
            .query(
                "SELECT doc FROM notice_items WHERE due_at IS NOT NULL AND due_at <= $1 \
                 ORDER BY due_at, notice_id, position LIMIT $2",
                &[&now, &limit_i64(limit)],
            )?
            .iter()
            .map(|r| item_from(col(r, 0, "notice_items.doc")?))
            .collect()
    }

    fn accepted_notice_items(&self, shop_id: &str) -> Result<u64> {
        let row = self.conn()?.query_one(
            "SELECT COUNT(*) FROM notice_items WHERE shop_id = $1 \
             AND state IN ('accepted', 'countered', 'restored', 'upheld')",
            &[&shop_id],
        )?;
        let n: i64 = col(&row, 0, "count")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
