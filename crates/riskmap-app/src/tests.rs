#![allow(clippy::unwrap_used)]

use super::*;
use riskmap_core::import::parse_geojson;
use riskmap_core::scoring::Rules;
use riskmap_store::SqliteStore;

fn target(id: &str, lon: f64, lat: f64) -> Feature {
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","id":"{id}",
        "geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},
        "properties":{{"name":"测试学校 {id}","category":"school","population":800}}}}]}}"#
    );
    parse_geojson(
        Collection::ProtectionTargets,
        &text,
        riskmap_spatial::Crs::Wgs84,
    )
    .unwrap()
    .remove(0)
}

async fn app(dir: &std::path::Path) -> App {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).await.unwrap());
    App::open(store, Some("2026-12-03".into())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_never_changes_and_the_next_one_has_the_write() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let before = app.world().unwrap();
    assert_eq!(before.version(), 0);
    let e = app
        .upsert(
            Collection::ProtectionTargets,
            vec![target("t1", 120.2, 30.3)],
            &By::admin("test"),
        )
        .await
        .unwrap();
    assert_eq!((e.inserted, e.replaced), (1, 0));
    let after = app.world().unwrap();
    assert_eq!(after.version(), 1);
    assert!(
        before
            .catalog
            .get(Collection::ProtectionTargets, "t1")
            .is_none()
    );
    assert!(
        after
            .catalog
            .get(Collection::ProtectionTargets, "t1")
            .is_some()
    );
    // The store has it too.
    let stored = app
        .store()
        .get(Collection::ProtectionTargets, "t1")
        .await
        .unwrap();
    assert!(stored.is_some());
    // While `before` is held the writer cannot reuse it: it clones instead,
    // and each published world still has exactly the writes before it.
    for i in 2..6 {
        app.upsert(
            Collection::ProtectionTargets,
            vec![target(&format!("t{i}"), 120.2 + i as f64 * 0.001, 30.3)],
            &By::admin("test"),
        )
        .await
        .unwrap();
        let w = app.world().unwrap();
        assert_eq!(w.version(), i);
        assert_eq!(w.catalog.len(Collection::ProtectionTargets), i as usize);
    }
    drop(before);
    drop(after);
    // Now the spare is free: the replayed copy equals what was published.
    app.delete(Collection::ProtectionTargets, "t1", &By::admin("test"))
        .await
        .unwrap();
    app.upsert(
        Collection::ProtectionTargets,
        vec![target("t9", 120.3, 30.3)],
        &By::admin("test"),
    )
    .await
    .unwrap();
    let w = app.world().unwrap();
    assert_eq!(w.version(), 7);
    let ids: Vec<&str> = w
        .catalog
        .iter(Collection::ProtectionTargets)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(ids, ["t2", "t3", "t4", "t5", "t9"]);
    assert!(matches!(
        app.delete(Collection::ProtectionTargets, "t1", &By::admin("test"))
            .await,
        Err(AppError::NotFound(_))
    ));
    assert_eq!(
        app.world().unwrap().version(),
        7,
        "a failed delete changes nothing"
    );
    // A fresh application on the same store sees the same world.
    let fresh = App::open(app.store().clone(), Some("2026-12-03".into()))
        .await
        .unwrap();
    let fw = fresh.world().unwrap();
    let fids: Vec<&str> = fw
        .catalog
        .iter(Collection::ProtectionTargets)
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(fids, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_are_answered_while_a_writer_works() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let writer = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..20 {
                app.upsert(
                    Collection::ProtectionTargets,
                    vec![target(
                        &format!("w{}", i % 5),
                        120.2 + i as f64 * 1e-4,
                        30.3,
                    )],
                    &By::admin("test"),
                )
                .await
                .unwrap();
            }
        })
    };
    let mut seen = Vec::new();
    while !writer.is_finished() {
        let n = app
            .read(Work::Map, |w| {
                (w.version(), w.catalog.len(Collection::ProtectionTargets))
            })
            .await
            .unwrap();
        seen.push(n);
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    // Versions only go up, and every snapshot is whole: its count is the
    // one that version must have (up to 5 distinct ids).
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    for (v, n) in seen {
        assert_eq!(n, (v as usize).min(5));
    }
    assert_eq!(app.world().unwrap().version(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bound_heavy_work_is_refused_as_busy() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let app = App::new(
        store,
        Limits {
            map: 1,
            analysis: 1,
            queue_wait: Duration::from_millis(50),
        },
    );
    assert!(matches!(app.world(), Err(AppError::Loading(_))));
    app.load(Some("2026-12-03".into())).await.unwrap();
    assert_eq!(app.readiness(), Readiness::Ready);
    let slow = {
        let app = app.clone();
        tokio::spawn(async move {
            app.read(Work::Analysis, |_| {
                std::thread::sleep(Duration::from_millis(400))
            })
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(matches!(
        app.read(Work::Analysis, |_| ()).await,
        Err(AppError::Busy("analysis", _))
    ));
    // The map has its own bound.
    app.read(Work::Map, |_| ()).await.unwrap();
    slow.await.unwrap().unwrap();
    app.read(Work::Analysis, |_| ()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_writer_s_changes_are_followed_in_log_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path()).await;
    // A second process on the same file: its own store handle and origin.
    let b = app(dir.path()).await;
    assert_ne!(a.store().origin(), b.store().origin());

    a.upsert(
        Collection::ProtectionTargets,
        vec![target("t1", 120.2, 30.3), target("t2", 120.21, 30.31)],
        &By::admin("test"),
    )
    .await
    .unwrap();
    a.delete(Collection::ProtectionTargets, "t2", &By::admin("test"))
        .await
        .unwrap();
    let gets = |app: &App, id: &str| {
        app.world()
            .unwrap()
            .catalog
            .get(Collection::ProtectionTargets, id)
            .is_some()
    };
    assert!(!gets(&b, "t1"), "b has not caught up yet");
    assert_eq!(b.catch_up().await.unwrap(), 2, "two changes by a");
    assert!(gets(&b, "t1") && !gets(&b, "t2"));
    assert_eq!(b.changes_seen(), a.store().last_change().await.unwrap());
    // a skips its own writes but takes b's.
    b.upsert(
        Collection::ProtectionTargets,
        vec![target("t3", 120.22, 30.32)],
        &By::admin("test"),
    )
    .await
    .unwrap();
    assert_eq!(a.catch_up().await.unwrap(), 1);
    assert!(gets(&a, "t3"));
    // Caught up: nothing more to do, and both worlds show the same features.
    assert_eq!(a.catch_up().await.unwrap(), 0);
    assert_eq!(b.catch_up().await.unwrap(), 0);
    let ids = |app: &App| -> Vec<String> {
        app.world()
            .unwrap()
            .catalog
            .iter(Collection::ProtectionTargets)
            .map(|f| f.id.clone())
            .collect()
    };
    assert_eq!(ids(&a), ids(&b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_import_elsewhere_is_re_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path()).await;
    let b = app(dir.path()).await;
    let many: Vec<Feature> = (0..riskmap_store::log::LOG_IDS_MAX + 1)
        .map(|i| {
            target(
                &format!("bulk-{i}"),
                120.0 + (i % 100) as f64 * 1e-3,
                30.0 + (i / 100) as f64 * 1e-3,
            )
        })
        .collect();
    let n = many.len();
    // As `riskmap import` does: straight into the store.
    a.store()
        .import(Collection::ProtectionTargets, &many, None)
        .await
        .unwrap();
    let logged = b.store().changes_since(b.changes_seen(), 10).await.unwrap();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].ids, None, "too many ids to log");
    assert_eq!(b.catch_up().await.unwrap(), 1);
    assert_eq!(
        b.world()
            .unwrap()
            .catalog
            .len(Collection::ProtectionTargets),
        n
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_levels_are_pending_features_serve_and_analyses_wait() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    store
        .import(
            Collection::ProtectionTargets,
            &[target("t1", 120.2, 30.3)],
            None,
        )
        .await
        .unwrap();
    let app = App::new(store, Limits::default());
    // What `load` publishes first: the features with no level.
    let mut catalog = Catalog::new();
    catalog.load(
        Collection::ProtectionTargets,
        vec![target("t1", 120.2, 30.3)],
    );
    let unscored = World::unscored(
        catalog,
        Rules::builtin(),
        Arc::new(SafetyConfig::embedded()),
        "2026-12-03",
    );
    app.0.world.store(Some(Arc::new(unscored)));
    let n = app
        .read(Work::Map, |w| w.catalog.len(Collection::ProtectionTargets))
        .await
        .unwrap();
    assert_eq!(n, 1, "features serve while levels are pending");
    for work in [Work::Derived, Work::Analysis] {
        let r = app.read(work, |_| ()).await;
        assert!(
            matches!(&r, Err(AppError::Loading(m)) if m.contains("levels are not computed yet")),
            "{work:?}: {r:?}"
        );
    }
    assert!(app.scored_world().is_err());
    // Writes wait for the scored world too.
    assert!(matches!(
        app.upsert(
            Collection::ProtectionTargets,
            vec![target("t2", 120.3, 30.3)],
            &By::admin("test")
        )
        .await,
        Err(AppError::Loading(_))
    ));
    app.load(Some("2026-12-03".into())).await.unwrap();
    assert!(app.world().unwrap().is_scored());
    app.read(Work::Analysis, |_| ()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_whose_caller_has_gone_is_told_to_stop_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    assert_eq!(app.work_abandoned(), 0);
    let (tx, rx) = std::sync::mpsc::channel();
    // The caller gives up after 100 ms (as a server does when its client
    // disconnects: the request future is dropped).
    let gave_up = tokio::time::timeout(
        Duration::from_millis(100),
        app.read_cancellable(Work::Analysis, move |_, cancel| {
            let t = Instant::now();
            while !cancel.is_cancelled() && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = tx.send((cancel.is_cancelled(), t.elapsed()));
        }),
    )
    .await;
    assert!(gave_up.is_err(), "the work should still be running");
    let (stopped, after) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(stopped, "the work was never told its caller had gone");
    assert!(after < Duration::from_secs(1), "told only after {after:?}");
    // The count is taken when the closure returns, just after it reported.
    let t = Instant::now();
    while app.work_abandoned() == 0 && t.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(app.work_abandoned(), 1);
    // A caller that waits for its answer is not counted.
    app.read_cancellable(Work::Analysis, |_, c| assert!(!c.is_cancelled()))
        .await
        .unwrap();
    assert_eq!(app.work_abandoned(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_of_an_id_another_server_stored_first_is_a_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let a = app(dir.path()).await;
    let b = app(dir.path()).await;
    a.insert(
        Collection::ProtectionTargets,
        vec![target("first", 120.2, 30.3)],
        &By::admin("test"),
    )
    .await
    .unwrap();
    // b has not seen a's insert: its own snapshot has no "first", but the
    // store refuses the second insert, and b changes nothing.
    let version = b.world().unwrap().version();
    let err = b
        .insert(
            Collection::ProtectionTargets,
            vec![target("first", 120.3, 30.4), target("second", 120.3, 30.4)],
            &By::admin("test"),
        )
        .await
        .unwrap_err();
    match err {
        AppError::Conflict(m) => assert!(
            m.contains("first") && m.contains("nothing was written"),
            "{m}"
        ),
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(
        b.world().unwrap().version(),
        version,
        "b's world is unchanged"
    );
    assert!(
        a.store()
            .get(Collection::ProtectionTargets, "second")
            .await
            .unwrap()
            .is_none()
    );
    // Following the log, b then shows a's feature as a stored it.
    b.catch_up().await.unwrap();
    let kept = b
        .world()
        .unwrap()
        .catalog
        .get(Collection::ProtectionTargets, "first")
        .unwrap()
        .geometry
        .clone();
    assert_eq!(kept, target("first", 120.2, 30.3).geometry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_park_that_enterprises_name_is_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let park = parse_geojson(
        Collection::Parks,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"P1",
        "geometry":{"type":"Polygon","coordinates":[[[120.1,30.1],[120.2,30.1],[120.2,30.2],[120.1,30.2],[120.1,30.1]]]},
        "properties":{"name":"测试化工园区","kind":"chemical"}}]}"#,
        riskmap_spatial::Crs::Wgs84,
    )
    .unwrap();
    app.upsert(Collection::Parks, park, &By::admin("test"))
        .await
        .unwrap();
    let enterprise = parse_geojson(
        Collection::Enterprises,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"E1",
        "geometry":{"type":"Point","coordinates":[120.15,30.15]},
        "properties":{"name":"园区内企业","industry":"化工","park_id":"P1"}}]}"#,
        riskmap_spatial::Crs::Wgs84,
    )
    .unwrap();
    app.upsert(Collection::Enterprises, enterprise, &By::admin("test"))
        .await
        .unwrap();
    let version = app.world().unwrap().version();
    match app
        .delete(Collection::Parks, "P1", &By::admin("test"))
        .await
        .unwrap_err()
    {
        AppError::Conflict(m) => {
            assert!(m.contains("park_id") && m.contains("E1"), "{m}")
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(app.world().unwrap().version(), version, "nothing changed");
    assert!(
        app.store()
            .get(Collection::Parks, "P1")
            .await
            .unwrap()
            .is_some()
    );
    // An enterprise that a hidden danger names stays too (the register
    // keeps its references).
    let danger = parse_geojson(
        Collection::HiddenDangers,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"H1",
        "geometry":{"type":"Point","coordinates":[120.15,30.15]},"properties":{"enterprise_id":"E1","source":"inspection",
        "level":"general","description":"消防通道堆放杂物","found_date":"2026-12-01"}}]}"#,
        riskmap_spatial::Crs::Wgs84,
    )
    .unwrap();
    app.insert(Collection::HiddenDangers, danger, &By::admin("test"))
        .await
        .unwrap();
    let version = app.world().unwrap().version();
    match app
        .delete(Collection::Enterprises, "E1", &By::admin("test"))
        .await
        .unwrap_err()
    {
        AppError::Conflict(m) => {
            assert!(m.contains("hidden_dangers/H1 (enterprise_id)"), "{m}")
        }
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(app.world().unwrap().version(), version, "nothing changed");
    // Once nothing names them, they go.
    app.delete(Collection::HiddenDangers, "H1", &By::admin("test"))
        .await
        .unwrap();
    app.delete(Collection::Enterprises, "E1", &By::admin("test"))
        .await
        .unwrap();
    app.delete(Collection::Parks, "P1", &By::admin("test"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_that_a_shelter_names_is_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path()).await;
    let district = parse_geojson(
        Collection::Districts,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"330114",
        "geometry":{"type":"Polygon","coordinates":[[[120.1,30.1],[120.2,30.1],[120.2,30.2],[120.1,30.2],[120.1,30.1]]]},
        "properties":{"code":"330114","name":"钱塘区"}}]}"#,
        riskmap_spatial::Crs::Wgs84,
    )
    .unwrap();
    app.upsert(Collection::Districts, district, &By::admin("test"))
        .await
        .unwrap();
    let shelter = parse_geojson(
        Collection::Shelters,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"S1",
        "geometry":{"type":"Point","coordinates":[120.15,30.15]},
        "properties":{"name":"广场（示例避难场所）","class":"emergency","capacity_persons":800,"district_code":"330114"}}]}"#,
        riskmap_spatial::Crs::Wgs84,
    )
    .unwrap();
    app.insert(Collection::Shelters, shelter, &By::admin("test"))
        .await
        .unwrap();
    let version = app.world().unwrap().version();
    match app
        .delete(Collection::Districts, "330114", &By::admin("test"))
        .await
        .unwrap_err()
    {
        AppError::Conflict(m) => assert!(m.contains("shelters/S1 (district_code)"), "{m}"),
        other => panic!("expected a conflict, got {other}"),
    }
    assert_eq!(app.world().unwrap().version(), version, "nothing changed");
    app.delete(Collection::Shelters, "S1", &By::admin("test"))
        .await
        .unwrap();
    app.delete(Collection::Districts, "330114", &By::admin("test"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_server_that_made_a_change_records_what_it_derived() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    for c in Collection::ALL {
        let text = riskmap_core::demo::text(c);
        let f = parse_geojson(c, text, riskmap_spatial::Crs::Wgs84).unwrap();
        store.import(c, &f, None).await.unwrap();
    }
    let a = App::open(store, Some("2026-12-03".into())).await.unwrap();
    let b = app(dir.path()).await;
    let v = a.world().unwrap().safety.violations().next().cloned();
    let v = v.expect("the demo city has a violation");
    let window = riskmap_store::DerivedQuery {
        since: "2000-01-01".into(),
        until: "2100-01-01".into(),
        limit: 1000,
        ..Default::default()
    };
    a.delete(
        Collection::ProtectionTargets,
        &v.target_id,
        &By::admin("test"),
    )
    .await
    .unwrap();
    let rows = a.store().derived_changes(&window).await.unwrap();
    let cleared: Vec<&str> = rows
        .iter()
        .filter(|r| r.change.kind == riskmap_store::history::kind::VIOLATION_CLEARED)
        .map(|r| r.change.id.as_str())
        .collect();
    assert!(cleared.contains(&v.id.as_str()), "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.change.detail.contains("\"actor\":\"test\""))
    );
    // The other server takes the change in and records nothing more.
    assert_eq!(b.catch_up().await.unwrap(), 1);
    assert!(b.world().unwrap().safety.violations().all(|x| x.id != v.id));
    assert_eq!(b.store().derived_changes(&window).await.unwrap(), rows);
}
