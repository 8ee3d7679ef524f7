-- Content beyond listings (issue #12): short videos with their versions
-- and decisions, and livestream sessions.

CREATE TABLE videos (
    id           TEXT PRIMARY KEY,
    creator_id   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    action       TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX videos_by_creator ON videos(creator_id, id);

CREATE TABLE video_versions (
    video_id     TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    doc          TEXT NOT NULL,
    decision     TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (video_id, version)
) STRICT;

CREATE TABLE streams (
    id         TEXT PRIMARY KEY,
    host_id    TEXT NOT NULL,
    status     TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX streams_by_host ON streams(host_id, id);
