//! The registry keeps a logo's keypoint features with the right, so a
//! process that starts reads them instead of decoding the image again; a
//! right stored without them gets them once.

use std::sync::Arc;

use shopshield_app::{App, AppConfig, Principal, SystemClock};
use shopshield_model::NewRight;
use shopshield_store::{RegistryStore, RightRecord, SqliteStore};

const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/demo/images");

fn logo_right(id: &str) -> NewRight {
    serde_json::from_value(serde_json::json!({
        "id": id, "holder": "Puma", "kind": "logo", "image": "puma-logo.png",
        "nice_classes": [18, 25], "regions": ["*"]
    }))
    .unwrap()
}

fn open(db: &std::path::Path) -> App {
    let store = SqliteStore::open(db).unwrap();
    App::new(Arc::new(store), AppConfig::default(), Arc::new(SystemClock)).unwrap()
}

fn finds_the_logo(app: &App) -> bool {
    let photo = std::fs::read(format!("{IMAGES}/coaster-with-puma-print.jpg")).unwrap();
    let found = app
        .registry()
        .match_image(&Principal::operator("t"), &photo)
        .unwrap();
    found.located.iter().any(|m| m.right_id == "r-logo")
}

#[test]
fn logo_features_are_stored_and_read_back_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let logo = std::fs::read(format!("{IMAGES}/puma-logo.png")).unwrap();
    {
        let app = open(&db);
        app.registry()
            .import_rights(
                &Principal::operator("t"),
                vec![(logo_right("r-logo"), Some(logo))],
            )
            .unwrap();
        assert!(finds_the_logo(&app));
    }
    let store = SqliteStore::open(&db).unwrap();
    let stored = store.right("r-logo").unwrap().unwrap();
    let bytes = stored.features.expect("features stored with the right");
    assert!(shopshield_keypoints::Reference::from_bytes(&bytes).is_ok());
    // Replace the stored image with garbage: a process that starts now can
    // only find the logo through the stored features.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute("UPDATE rights SET image = x'00' WHERE id = 'r-logo'", [])
        .unwrap();
    drop(conn);
    assert!(finds_the_logo(&open(&db)));
}

#[test]
fn a_logo_stored_without_features_gets_them_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shopshield.db");
    let logo = std::fs::read(format!("{IMAGES}/puma-logo.png")).unwrap();
    {
        // As an earlier release stored it: image and hashes, no features.
        let mut rec = RightRecord {
            right: shopshield_model::Right::from_new(
                logo_right("r-logo"),
                "puma".into(),
                chrono::Utc::now(),
            ),
            image: Some(logo),
            features: None,
        };
        shopshield_app::prepare_image_right(&mut rec, false, false).unwrap();
        assert!(rec.features.is_none() && !rec.right.image_hashes.is_empty());
        let store = SqliteStore::open(&db).unwrap();
        store
            .insert_holder(&shopshield_model::RightsHolder {
                id: "puma".into(),
                name: "Puma".into(),
                created_at: chrono::Utc::now(),
            })
            .unwrap();
        store.insert_right(&rec).unwrap();
    }
    let app = open(&db);
    assert!(finds_the_logo(&app));
    let store = SqliteStore::open(&db).unwrap();
    assert!(store.right("r-logo").unwrap().unwrap().features.is_some());
    assert_eq!(
        store.registry_version().unwrap(),
        1,
        "not a registry change"
    );
}
