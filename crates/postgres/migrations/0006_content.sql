-- Content beyond listings (issue #12): short videos with their versions
-- and decisions, and livestream sessions.

CREATE TABLE videos (
    id           text COLLATE "C" PRIMARY KEY,
    creator_id   text NOT NULL,
    version      bigint NOT NULL,
    content_hash text NOT NULL,
    action       text NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX videos_by_creator ON videos(creator_id, id);

CREATE TABLE video_versions (
    video_id     text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    content_hash text NOT NULL,
    doc          text NOT NULL,
    decision     text NOT NULL,
    submitted_at timestamptz NOT NULL,
    PRIMARY KEY (video_id, version)
);

CREATE TABLE streams (
    id         text COLLATE "C" PRIMARY KEY,
    host_id    text NOT NULL,
    status     text NOT NULL,
    doc        text NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX streams_by_host ON streams(host_id, id);
