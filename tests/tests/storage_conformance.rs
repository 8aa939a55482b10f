//! One behaviour, two backends: every operation of the `Storage` trait the built-in routes use,
//! run with the same code against SQLite (a fresh file) and PostgreSQL (a fresh database in the
//! cluster `tests/run.sh` starts; `MASTRA_TEST_POSTGRES_URL`). Each case is one async function
//! taking the backend; `conformance!` makes a `sqlite::case` and a `postgres::case` test of it.
//! Without `MASTRA_TEST_POSTGRES_URL` the PostgreSQL half fails, saying how to set it.

use std::{collections::HashSet, sync::Arc};

use futures_util::future::join_all;
use mastra_runtime::memory::{
    AgentRunFilter, AgentRunRecord, AgentRunStatus, Message, MessageContent, MessagePart,
    MessageRole, Page, PageRequest, SortDirection, StorageError, Thread, ThreadFilter,
    ThreadOrderField, ThreadUpdate, Timestamp, ToolInvocation, WorkflowRunFilter,
    WorkflowRunRecord, WorkflowRunStatus, MAX_ID_BYTES, MAX_METADATA_BYTES, MAX_PER_PAGE,
    MAX_STORED_DEPTH, MAX_TITLE_BYTES,
};
use mastra_tests::stores::{Backend, RawValue, TestStore};
use serde_json::{json, Map, Value};

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(mastra_tests::stores::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case(mastra_tests::stores::Backend::Postgres).await;
                }
            )*
        }
    };
}

conformance!(
    threads_are_created_read_updated_and_deleted_with_their_messages,
    threads_are_listed_by_owner_and_metadata_in_pages_and_both_orders,
    messages_keep_the_order_the_store_saved_them_in,
    messages_are_paged_both_ways_and_recent_ones_come_oldest_first,
    a_thread_of_another_owner_takes_no_messages,
    concurrent_first_writes_leave_one_owner,
    concurrent_appends_from_two_instances_store_every_message_once_in_one_order,
    workflow_runs_are_created_claimed_saved_and_read,
    one_claim_of_a_pending_run_wins,
    workflow_runs_are_listed_newest_first_with_filters_and_pages,
    a_workflow_run_transitions_only_from_the_state_read,
    agent_runs_are_saved_claimed_once_and_listed,
    unreadable_rows_are_listed_apart_and_fail_only_their_own_read,
    writes_past_a_limit_are_refused_before_anything_is_written,
    pages_past_the_maximum_are_refused,
);

fn every() -> PageRequest {
    PageRequest {
        page: 0,
        per_page: None,
    }
}

fn page(page: u32, per_page: u32) -> PageRequest {
    PageRequest {
        page,
        per_page: Some(per_page),
    }
}

fn thread_at(id: &str, owner: &str, created: i64) -> Thread {
    let mut thread = Thread::new(id, owner);
    thread.created_at = Timestamp(created);
    thread.updated_at = Timestamp(created);
    thread
}

fn text(thread: &Thread, role: MessageRole, body: &str) -> Message {
    Message::new(thread, role, MessageContent::text(body))
}

fn texts(page: &Page<Message>) -> Vec<String> {
    page.items.iter().map(|m| m.content.plain_text()).collect()
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    items.iter().map(|item| id(item).to_owned()).collect()
}

fn nested(levels: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..levels {
        value = Value::Array(vec![value]);
    }
    value
}

fn metadata(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn run(workflow: &str, id: &str, status: WorkflowRunStatus, created: i64) -> WorkflowRunRecord {
    WorkflowRunRecord {
        workflow_name: workflow.to_owned(),
        run_id: id.to_owned(),
        resource_id: None,
        status,
        snapshot: json!({ "runId": id, "status": status.as_str() }),
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
    }
}

async fn threads_are_created_read_updated_and_deleted_with_their_messages(backend: Backend) {
    let store = TestStore::open(backend, "threads-crud").await;
    let storage = &store.storage;
    let mut thread = Thread::new("t1", "alice");
    thread.title = Some("First".to_owned());
    thread.metadata = Some(metadata(json!({ "topic": "tea", "n": 1 })));
    storage.create_thread(&thread).await.unwrap();
    assert_eq!(
        storage.get_thread("t1").await.unwrap(),
        Some(thread.clone())
    );
    assert_eq!(storage.get_thread("missing").await.unwrap(), None);

    let again = storage.create_thread(&thread).await.unwrap_err();
    assert!(matches!(again, StorageError::Conflict(_)), "{again:?}");

    let update = ThreadUpdate {
        title: Some("Renamed".to_owned()),
        metadata: Some(metadata(json!({ "topic": "coffee" }))),
        resource_id: None,
    };
    let updated = storage.update_thread("t1", &update).await.unwrap().unwrap();
    assert_eq!(updated.title.as_deref(), Some("Renamed"));
    assert_eq!(updated.metadata, update.metadata);
    assert_eq!(updated.resource_id, "alice");
    assert_eq!(updated.created_at, thread.created_at);
    assert!(updated.updated_at >= thread.updated_at);
    assert_eq!(
        storage.get_thread("t1").await.unwrap(),
        Some(updated.clone())
    );
    let title_only = ThreadUpdate {
        title: Some("Only the title".to_owned()),
        ..ThreadUpdate::default()
    };
    let kept = storage
        .update_thread("t1", &title_only)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.metadata, update.metadata, "absent fields stay");
    assert_eq!(
        storage.update_thread("missing", &update).await.unwrap(),
        None
    );

    let messages = [
        text(&thread, MessageRole::User, "hello"),
        text(&thread, MessageRole::Assistant, "hi"),
    ];
    storage.append_messages(&thread, &messages).await.unwrap();
    let other = Thread::new("t2", "alice");
    storage
        .append_messages(&other, &[text(&other, MessageRole::User, "elsewhere")])
        .await
        .unwrap();

    assert!(storage.delete_thread("t1").await.unwrap());
    assert_eq!(storage.get_thread("t1").await.unwrap(), None);
    let gone = storage
        .list_messages("t1", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(
        (gone.total, gone.items.len()),
        (0, 0),
        "its messages went too"
    );
    assert!(!storage.delete_thread("t1").await.unwrap());
    let kept = storage
        .list_messages("t2", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(texts(&kept), ["elsewhere"], "other threads keep theirs");
    // A message id freed by the delete can be used again.
    storage.append_messages(&thread, &messages).await.unwrap();
}

async fn threads_are_listed_by_owner_and_metadata_in_pages_and_both_orders(backend: Backend) {
    let store = TestStore::open(backend, "threads-list").await;
    let storage = &store.storage;
    let base = 1_700_000_000_000_i64;
    for i in 0..5 {
        let mut thread = thread_at(&format!("a{i}"), "alice", base + i);
        thread.metadata = Some(metadata(json!({ "even": i % 2 == 0, "i": i })));
        // Updated in the reverse order of creation.
        thread.updated_at = Timestamp(base + 100 - i);
        storage.create_thread(&thread).await.unwrap();
    }
    for i in 0..2 {
        storage
            .create_thread(&thread_at(&format!("b{i}"), "bob", base + 10 + i))
            .await
            .unwrap();
    }
    let alice = ThreadFilter {
        resource_id: Some("alice".to_owned()),
        ..ThreadFilter::default()
    };

    let newest = storage.list_threads(&alice, every()).await.unwrap();
    assert_eq!(
        ids(&newest.items, |t| &t.id),
        ["a4", "a3", "a2", "a1", "a0"]
    );
    assert_eq!((newest.total, newest.has_more), (5, false));

    let oldest_first = ThreadFilter {
        direction: SortDirection::Asc,
        ..alice.clone()
    };
    let first = storage
        .list_threads(&oldest_first, page(0, 2))
        .await
        .unwrap();
    let second = storage
        .list_threads(&oldest_first, page(1, 2))
        .await
        .unwrap();
    let third = storage
        .list_threads(&oldest_first, page(2, 2))
        .await
        .unwrap();
    assert_eq!(ids(&first.items, |t| &t.id), ["a0", "a1"]);
    assert_eq!(ids(&second.items, |t| &t.id), ["a2", "a3"]);
    assert_eq!(ids(&third.items, |t| &t.id), ["a4"]);
    assert_eq!(
        (first.total, first.has_more, third.has_more),
        (5, true, false)
    );
    let past = storage
        .list_threads(&oldest_first, page(9, 2))
        .await
        .unwrap();
    assert!(past.items.is_empty() && past.total == 5 && !past.has_more);

    let by_update = ThreadFilter {
        order_by: ThreadOrderField::UpdatedAt,
        direction: SortDirection::Desc,
        ..alice.clone()
    };
    let updated = storage.list_threads(&by_update, every()).await.unwrap();
    assert_eq!(
        ids(&updated.items, |t| &t.id),
        ["a0", "a1", "a2", "a3", "a4"]
    );

    let everyone = storage
        .list_threads(&ThreadFilter::default(), every())
        .await
        .unwrap();
    assert_eq!(everyone.total, 7);

    let even = ThreadFilter {
        metadata: Some(metadata(json!({ "even": true }))),
        direction: SortDirection::Asc,
        ..alice.clone()
    };
    let matched = storage.list_threads(&even, every()).await.unwrap();
    assert_eq!(ids(&matched.items, |t| &t.id), ["a0", "a2", "a4"]);
    assert_eq!(matched.total, 3);
    let second_even = storage.list_threads(&even, page(1, 2)).await.unwrap();
    assert_eq!(ids(&second_even.items, |t| &t.id), ["a4"]);
    assert_eq!((second_even.total, second_even.has_more), (3, false));
    let exact = ThreadFilter {
        metadata: Some(metadata(json!({ "even": false, "i": 3 }))),
        ..alice.clone()
    };
    let found = storage.list_threads(&exact, every()).await.unwrap();
    assert_eq!(ids(&found.items, |t| &t.id), ["a3"]);
    let nobody = ThreadFilter {
        resource_id: Some("carol".to_owned()),
        ..ThreadFilter::default()
    };
    assert_eq!(
        storage.list_threads(&nobody, every()).await.unwrap().total,
        0
    );
}

async fn messages_keep_the_order_the_store_saved_them_in(backend: Backend) {
    let store = TestStore::open(backend, "messages-order").await;
    let storage = &store.storage;
    let thread = Thread::new("conv", "alice");
    // Clocks disagree: the second batch says it was written an hour before the first. The
    // store's own order (the order it saved them in) is what counts.
    let mut first = text(&thread, MessageRole::User, "one");
    first.created_at = Timestamp(2_000_000_000_000);
    let mut second = text(&thread, MessageRole::Assistant, "two");
    second.created_at = Timestamp(2_000_000_000_000);
    storage
        .append_messages(&thread, &[first, second])
        .await
        .unwrap();
    let mut third = text(&thread, MessageRole::User, "three");
    third.created_at = Timestamp(2_000_000_000_000 - 3_600_000);
    storage.append_messages(&thread, &[third]).await.unwrap();
    let listed = storage
        .list_messages("conv", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(texts(&listed), ["one", "two", "three"]);
    assert_eq!(
        listed.items[2].created_at,
        Timestamp(2_000_000_000_000 - 3_600_000)
    );
    assert_eq!(listed.items[0].role, MessageRole::User);
    assert_eq!(listed.items[0].thread_id, "conv");
    assert_eq!(listed.items[0].resource_id.as_deref(), Some("alice"));
    let newest = storage
        .list_messages("conv", every(), SortDirection::Desc)
        .await
        .unwrap();
    assert_eq!(texts(&newest), ["three", "two", "one"]);

    // Appending created the thread and moves its updatedAt.
    let saved = storage.get_thread("conv").await.unwrap().unwrap();
    assert_eq!(saved.resource_id, "alice");
    assert!(saved.updated_at >= thread.updated_at);

    // A batch with a taken message id is refused whole.
    let fresh = text(&thread, MessageRole::User, "four");
    let mut taken = text(&thread, MessageRole::User, "dup");
    taken.id = listed.items[0].id.clone();
    let refused = storage
        .append_messages(&thread, &[fresh, taken])
        .await
        .unwrap_err();
    assert!(matches!(refused, StorageError::Conflict(_)), "{refused:?}");
    let after = storage
        .list_messages("conv", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(
        texts(&after),
        ["one", "two", "three"],
        "nothing of the batch"
    );
}

async fn messages_are_paged_both_ways_and_recent_ones_come_oldest_first(backend: Backend) {
    let store = TestStore::open(backend, "messages-pages").await;
    let storage = &store.storage;
    let thread = Thread::new("conv", "alice");
    for i in 0..7 {
        storage
            .append_messages(
                &thread,
                &[text(&thread, MessageRole::User, &format!("m{i}"))],
            )
            .await
            .unwrap();
    }
    let asc: Vec<Vec<String>> = join_all((0..4).map(|p| {
        let storage = Arc::clone(storage);
        async move {
            texts(
                &storage
                    .list_messages("conv", page(p, 3), SortDirection::Asc)
                    .await
                    .unwrap(),
            )
        }
    }))
    .await;
    assert_eq!(
        asc,
        [
            vec!["m0", "m1", "m2"],
            vec!["m3", "m4", "m5"],
            vec!["m6"],
            vec![]
        ]
    );
    let desc = storage
        .list_messages("conv", page(1, 3), SortDirection::Desc)
        .await
        .unwrap();
    assert_eq!(texts(&desc), ["m3", "m2", "m1"]);
    assert_eq!((desc.total, desc.has_more, desc.page), (7, true, 1));
    let last = storage
        .list_messages("conv", page(2, 3), SortDirection::Desc)
        .await
        .unwrap();
    assert!(!last.has_more);

    let recent = storage.recent_messages("conv", 3).await.unwrap();
    let recent: Vec<String> = recent.iter().map(|m| m.content.plain_text()).collect();
    assert_eq!(recent, ["m4", "m5", "m6"]);
    assert!(storage.recent_messages("conv", 0).await.unwrap().is_empty());
    assert_eq!(storage.recent_messages("conv", 100).await.unwrap().len(), 7);
    assert!(storage.recent_messages("none", 5).await.unwrap().is_empty());
}

async fn a_thread_of_another_owner_takes_no_messages(backend: Backend) {
    let store = TestStore::open(backend, "not-owner").await;
    let storage = &store.storage;
    let mine = Thread::new("t", "alice");
    storage
        .append_messages(&mine, &[text(&mine, MessageRole::User, "hi")])
        .await
        .unwrap();
    let theirs = Thread::new("t", "mallory");
    let refused = storage
        .append_messages(&theirs, &[text(&theirs, MessageRole::User, "boo")])
        .await
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "Thread with id t is for resource with id alice but resource mallory was queried"
    );
    assert!(refused.is_refusal());
    let listed = storage
        .list_messages("t", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(texts(&listed), ["hi"]);
    assert_eq!(
        storage.get_thread("t").await.unwrap().unwrap().resource_id,
        "alice"
    );
}

async fn concurrent_first_writes_leave_one_owner(backend: Backend) {
    let store = TestStore::open(backend, "owner-race").await;
    let second = store.second_instance();
    let stores = [Arc::clone(&store.storage), second];
    let attempts = join_all((0..20).map(|i| {
        let storage = Arc::clone(&stores[i % 2]);
        async move {
            let owner = if i % 2 == 0 { "alice" } else { "bob" };
            let thread = Thread::new("contested", owner);
            let message = text(&thread, MessageRole::User, &format!("{owner} {i}"));
            (owner, storage.append_messages(&thread, &[message]).await)
        }
    }))
    .await;
    let owner = store
        .storage
        .get_thread("contested")
        .await
        .unwrap()
        .unwrap()
        .resource_id;
    for (who, result) in &attempts {
        if *who == owner {
            assert!(result.is_ok(), "{who}: {result:?}");
        } else {
            assert!(
                matches!(result, Err(StorageError::NotOwner { .. })),
                "{who}: {result:?}"
            );
        }
    }
    let listed = store
        .storage
        .list_messages("contested", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(listed.total, 10);
    assert!(listed
        .items
        .iter()
        .all(|m| m.content.plain_text().starts_with(owner.as_str())));
}

async fn concurrent_appends_from_two_instances_store_every_message_once_in_one_order(
    backend: Backend,
) {
    let store = TestStore::open(backend, "append-race").await;
    let second = store.second_instance();
    let stores = [Arc::clone(&store.storage), second];
    let thread = Thread::new("shared", "alice");
    let turns = 40;
    let results = join_all((0..turns).map(|i| {
        let storage = Arc::clone(&stores[i % 2]);
        let thread = thread.clone();
        async move {
            let turn = [
                text(&thread, MessageRole::User, &format!("q{i}")),
                text(&thread, MessageRole::Assistant, &format!("a{i}")),
            ];
            storage.append_messages(&thread, &turn).await
        }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let one = stores[0]
        .list_messages("shared", every(), SortDirection::Asc)
        .await
        .unwrap();
    let other = stores[1]
        .list_messages("shared", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(one.total, 2 * turns as u64);
    let order = texts(&one);
    assert_eq!(order, texts(&other), "both instances read one order");
    let unique: HashSet<&String> = order.iter().collect();
    assert_eq!(unique.len(), order.len(), "every message once");
    // A turn is one transaction: its answer follows its question directly.
    for pair in order.chunks(2) {
        assert_eq!(pair[0].replacen('q', "a", 1), pair[1], "{order:?}");
    }
}

async fn workflow_runs_are_created_claimed_saved_and_read(backend: Backend) {
    let store = TestStore::open(backend, "runs").await;
    let storage = &store.storage;
    let now = Timestamp::now().millis();
    let mut pending = run("wf", "r1", WorkflowRunStatus::Pending, now);
    pending.resource_id = Some("alice".to_owned());
    assert!(storage.create_workflow_run(&pending).await.unwrap());
    assert!(
        !storage.create_workflow_run(&pending).await.unwrap(),
        "one per id"
    );
    assert_eq!(
        storage.get_workflow_run("wf", "r1").await.unwrap(),
        Some(pending.clone())
    );
    assert_eq!(storage.get_workflow_run("other", "r1").await.unwrap(), None);

    let mut claim = run("wf", "r1", WorkflowRunStatus::Running, now + 5);
    assert!(storage.claim_workflow_run(&claim).await.unwrap());
    let claimed = storage.get_workflow_run("wf", "r1").await.unwrap().unwrap();
    assert_eq!(claimed.status, WorkflowRunStatus::Running);
    assert_eq!(claimed.resource_id.as_deref(), Some("alice"), "owner kept");
    claim.updated_at = Timestamp(now + 6);
    assert!(
        !storage.claim_workflow_run(&claim).await.unwrap(),
        "a running run is not claimed again"
    );
    // Claiming a run nobody created inserts it.
    assert!(storage
        .claim_workflow_run(&run("wf", "fresh", WorkflowRunStatus::Running, now))
        .await
        .unwrap());

    let mut done = run("wf", "r1", WorkflowRunStatus::Success, now + 10);
    done.snapshot = json!({ "status": "success", "result": { "n": 42 } });
    storage.save_workflow_run(&done).await.unwrap();
    let read = storage.get_workflow_run("wf", "r1").await.unwrap().unwrap();
    assert_eq!(read.status, WorkflowRunStatus::Success);
    assert_eq!(read.snapshot, done.snapshot);
    assert_eq!(read.updated_at, Timestamp(now + 10));
    assert_eq!(read.resource_id.as_deref(), Some("alice"));
    // Saving a missing run inserts it.
    storage
        .save_workflow_run(&run("wf", "saved", WorkflowRunStatus::Failed, now))
        .await
        .unwrap();
    assert!(storage
        .get_workflow_run("wf", "saved")
        .await
        .unwrap()
        .is_some());
}

async fn one_claim_of_a_pending_run_wins(backend: Backend) {
    let store = TestStore::open(backend, "claim-race").await;
    let second = store.second_instance();
    let stores = [Arc::clone(&store.storage), second];
    let now = Timestamp::now().millis();
    assert!(store
        .storage
        .create_workflow_run(&run("wf", "r", WorkflowRunStatus::Pending, now))
        .await
        .unwrap());
    let claims = join_all((0..10).map(|i| {
        let storage = Arc::clone(&stores[i % 2]);
        async move {
            storage
                .claim_workflow_run(&run("wf", "r", WorkflowRunStatus::Running, now + 1))
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(claims.iter().filter(|won| **won).count(), 1, "{claims:?}");
}

async fn workflow_runs_are_listed_newest_first_with_filters_and_pages(backend: Backend) {
    let store = TestStore::open(backend, "runs-list").await;
    let storage = &store.storage;
    let base = 1_700_000_000_000_i64;
    for i in 0..6_i64 {
        let status = if i % 2 == 0 {
            WorkflowRunStatus::Success
        } else {
            WorkflowRunStatus::Failed
        };
        let mut record = run("wf", &format!("r{i}"), status, base + i * 1000);
        record.resource_id = Some(if i < 3 { "alice" } else { "bob" }.to_owned());
        storage.save_workflow_run(&record).await.unwrap();
    }
    storage
        .save_workflow_run(&run("other", "x", WorkflowRunStatus::Success, base))
        .await
        .unwrap();
    let run_ids = |page: &Page<WorkflowRunRecord>| ids(&page.items, |r| &r.run_id);

    let all = storage
        .list_workflow_runs(&WorkflowRunFilter::new("wf"), every())
        .await
        .unwrap();
    assert_eq!(run_ids(&all), ["r5", "r4", "r3", "r2", "r1", "r0"]);
    let second = storage
        .list_workflow_runs(&WorkflowRunFilter::new("wf"), page(1, 4))
        .await
        .unwrap();
    assert_eq!(run_ids(&second), ["r1", "r0"]);
    assert_eq!((second.total, second.has_more), (6, false));

    let failed = WorkflowRunFilter {
        status: Some(WorkflowRunStatus::Failed),
        ..WorkflowRunFilter::new("wf")
    };
    let listed = storage.list_workflow_runs(&failed, every()).await.unwrap();
    assert_eq!(run_ids(&listed), ["r5", "r3", "r1"]);
    let bobs = WorkflowRunFilter {
        resource_id: Some("bob".to_owned()),
        ..WorkflowRunFilter::new("wf")
    };
    assert_eq!(
        run_ids(&storage.list_workflow_runs(&bobs, every()).await.unwrap()),
        ["r5", "r4", "r3"]
    );
    let window = WorkflowRunFilter {
        from: Some(Timestamp(base + 1000)),
        to: Some(Timestamp(base + 3000)),
        ..WorkflowRunFilter::new("wf")
    };
    let within = storage.list_workflow_runs(&window, every()).await.unwrap();
    assert_eq!(run_ids(&within), ["r3", "r2", "r1"]);
    assert_eq!(within.total, 3);
}

async fn a_workflow_run_transitions_only_from_the_state_read(backend: Backend) {
    let store = TestStore::open(backend, "runs-transition").await;
    let storage = &store.storage;
    let now = Timestamp::now().millis();
    let suspended = run("wf", "r", WorkflowRunStatus::Suspended, now);
    storage.save_workflow_run(&suspended).await.unwrap();
    let resumed = run("wf", "r", WorkflowRunStatus::Running, now + 1);
    let second = store.second_instance();
    let (a, b) = tokio::join!(
        storage.transition_workflow_run(&resumed, WorkflowRunStatus::Suspended, Timestamp(now)),
        second.transition_workflow_run(&resumed, WorkflowRunStatus::Suspended, Timestamp(now))
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one transition applies");
    let read = storage.get_workflow_run("wf", "r").await.unwrap().unwrap();
    assert_eq!(read.status, WorkflowRunStatus::Running);
    assert_eq!(read.updated_at, Timestamp(now + 1));
    let stale = run("wf", "r", WorkflowRunStatus::Canceled, now + 2);
    assert!(!storage
        .transition_workflow_run(&stale, WorkflowRunStatus::Suspended, Timestamp(now))
        .await
        .unwrap());
    assert!(!storage
        .transition_workflow_run(
            &run("wf", "missing", WorkflowRunStatus::Running, now),
            WorkflowRunStatus::Suspended,
            Timestamp(now)
        )
        .await
        .unwrap());
}

fn agent_run(id: &str, status: AgentRunStatus, created: i64) -> AgentRunRecord {
    AgentRunRecord {
        agent_id: "agent".to_owned(),
        run_id: id.to_owned(),
        resource_id: Some("user".to_owned()),
        thread_id: Some("thread".to_owned()),
        status,
        snapshot: json!({ "pending": { "toolCallId": "c1" } }),
        version: 1,
        created_at: Timestamp(created),
        updated_at: Timestamp(created),
    }
}

async fn agent_runs_are_saved_claimed_once_and_listed(backend: Backend) {
    let store = TestStore::open(backend, "agent-runs").await;
    let storage = &store.storage;
    let now = Timestamp::now().millis();
    let record = agent_run("r1", AgentRunStatus::Suspended, now);
    storage.save_agent_run(&record).await.unwrap();
    assert_eq!(
        storage.get_agent_run("agent", "r1").await.unwrap(),
        Some(record.clone())
    );
    assert!(!storage.claim_agent_run("agent", "r1", 0).await.unwrap());
    let second = store.second_instance();
    let (a, b) = tokio::join!(
        storage.claim_agent_run("agent", "r1", 1),
        second.claim_agent_run("agent", "r1", 1)
    );
    assert!(a.unwrap() ^ b.unwrap(), "exactly one claim wins");
    let claimed = storage.get_agent_run("agent", "r1").await.unwrap().unwrap();
    assert_eq!(
        (claimed.status, claimed.version),
        (AgentRunStatus::Running, 2)
    );
    assert!(!storage
        .claim_agent_run("agent", "missing", 1)
        .await
        .unwrap());

    storage
        .save_agent_run(&agent_run("r2", AgentRunStatus::Suspended, now + 1))
        .await
        .unwrap();
    storage
        .save_agent_run(&agent_run("r3", AgentRunStatus::Success, now + 2))
        .await
        .unwrap();
    let suspended = AgentRunFilter {
        status: Some(AgentRunStatus::Suspended),
        ..AgentRunFilter::new("agent")
    };
    let listed = storage.list_agent_runs(&suspended, every()).await.unwrap();
    assert_eq!(ids(&listed.items, |r| &r.run_id), ["r2"]);
    let all = storage
        .list_agent_runs(&AgentRunFilter::new("agent"), page(0, 2))
        .await
        .unwrap();
    assert_eq!(ids(&all.items, |r| &r.run_id), ["r3", "r2"]);
    assert_eq!((all.total, all.has_more), (3, true));
}

async fn unreadable_rows_are_listed_apart_and_fail_only_their_own_read(backend: Backend) {
    let store = TestStore::open(backend, "unreadable").await;
    let storage = &store.storage;
    let now = Timestamp::now().millis();
    let thread = Thread::new("conv", "carol");
    storage
        .append_messages(&thread, &[text(&thread, MessageRole::User, "fine")])
        .await
        .unwrap();
    // Deeper than serde_json reads (127 levels), as a database edited by hand may hold.
    let too_deep = format!(
        r#"{{"format":2,"parts":[{{"type":"tool-invocation","toolInvocation":{{"state":"result","toolCallId":"c","toolName":"t","args":{}}}}}]}}"#,
        serde_json::to_string(&nested(124)).unwrap()
    );
    for (id, content) in [("deep", too_deep.as_str()), ("garbage", "not json")] {
        store
            .execute_raw(
                "INSERT INTO mastra_messages (id, thread_id, resource_id, role, content, created_at) \
                 VALUES ($1, 'conv', 'carol', 'assistant', $2, $3)",
                &[
                    RawValue::Text(id.to_owned()),
                    RawValue::Text(content.to_owned()),
                    RawValue::Int(now),
                ],
            )
            .await;
    }
    storage
        .append_messages(&thread, &[text(&thread, MessageRole::User, "after")])
        .await
        .unwrap();
    let listed = storage
        .list_messages("conv", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(texts(&listed), ["fine", "after"]);
    assert_eq!(ids(&listed.unreadable, |u| &u.id), ["deep", "garbage"]);
    assert_eq!(listed.total, 4);
    assert!(listed.unreadable[1].error.contains("cannot be read"));
    let recent = storage.recent_messages("conv", 10).await.unwrap();
    assert_eq!(recent.len(), 2, "the history skips what it cannot read");

    store
        .execute_raw(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES ('broken', 'carol', NULL, '[1,2]', $1, $1)",
            &[RawValue::Int(now)],
        )
        .await;
    let read = storage.get_thread("broken").await.unwrap_err();
    assert!(
        matches!(&read, StorageError::Unreadable { kind: "thread", id, .. } if id == "broken"),
        "{read:?}"
    );
    let carol = ThreadFilter {
        resource_id: Some("carol".to_owned()),
        ..ThreadFilter::default()
    };
    let threads = storage.list_threads(&carol, every()).await.unwrap();
    assert_eq!(ids(&threads.items, |t| &t.id), ["conv"]);
    assert_eq!(ids(&threads.unreadable, |u| &u.id), ["broken"]);
    assert_eq!(threads.total, 2);

    store
        .execute_raw(
            "INSERT INTO mastra_workflow_runs \
             (workflow_name, run_id, resource_id, status, snapshot, created_at, updated_at) \
             VALUES ('wf', 'odd', NULL, 'dancing', '{}', $1, $1)",
            &[RawValue::Int(now)],
        )
        .await;
    storage
        .save_workflow_run(&run("wf", "good", WorkflowRunStatus::Success, now - 1))
        .await
        .unwrap();
    assert!(matches!(
        storage.get_workflow_run("wf", "odd").await,
        Err(StorageError::Unreadable { .. })
    ));
    let runs = storage
        .list_workflow_runs(&WorkflowRunFilter::new("wf"), every())
        .await
        .unwrap();
    assert_eq!(ids(&runs.items, |r| &r.run_id), ["good"]);
    assert_eq!(ids(&runs.unreadable, |u| &u.id), ["odd"]);
}

async fn writes_past_a_limit_are_refused_before_anything_is_written(backend: Backend) {
    let store = TestStore::open(backend, "limits").await;
    let storage = &store.storage;
    let thread = Thread::new("t", "r");

    // Content wraps a tool call's arguments in four levels: at the limit it is written.
    let deep_content = |levels: usize| {
        let call = MessagePart::ToolInvocation {
            tool_invocation: ToolInvocation {
                state: "result".to_owned(),
                step: 0,
                tool_call_id: "c".to_owned(),
                tool_name: "t".to_owned(),
                args: nested(levels),
                result: Value::Null,
                is_error: false,
            },
        };
        Message::new(
            &thread,
            MessageRole::Assistant,
            MessageContent::from_parts(vec![call]),
        )
    };
    let at_limit = deep_content(MAX_STORED_DEPTH - 4);
    let over = deep_content(MAX_STORED_DEPTH);
    let refused = storage.append_messages(&thread, &[over]).await.unwrap_err();
    assert_eq!(
        refused,
        StorageError::TooDeep {
            field: "message content",
            limit: MAX_STORED_DEPTH
        }
    );
    assert_eq!(
        storage.get_thread("t").await.unwrap(),
        None,
        "not even the thread"
    );
    storage.append_messages(&thread, &[at_limit]).await.unwrap();
    assert_eq!(
        storage
            .list_messages("t", every(), SortDirection::Asc)
            .await
            .unwrap()
            .items
            .len(),
        1,
        "what is written at the limit reads back"
    );

    let mut deep_meta = Thread::new("m", "r");
    deep_meta.metadata = Some(metadata(json!({ "k": nested(MAX_STORED_DEPTH) })));
    assert!(matches!(
        storage.create_thread(&deep_meta).await,
        Err(StorageError::TooDeep {
            field: "metadata",
            ..
        })
    ));
    let mut big_meta = Thread::new("m", "r");
    big_meta.metadata = Some(metadata(json!({ "k": "x".repeat(MAX_METADATA_BYTES) })));
    assert!(matches!(
        storage.create_thread(&big_meta).await,
        Err(StorageError::TooLarge {
            field: "metadata",
            ..
        })
    ));
    let mut long_title = Thread::new("m", "r");
    long_title.title = Some("x".repeat(MAX_TITLE_BYTES + 1));
    assert!(matches!(
        storage.create_thread(&long_title).await,
        Err(StorageError::TooLarge { field: "title", .. })
    ));
    let long_id = Thread::new("x".repeat(MAX_ID_BYTES + 1), "r");
    assert!(matches!(
        storage.create_thread(&long_id).await,
        Err(StorageError::InvalidId(_))
    ));
    assert!(matches!(
        storage
            .update_thread(
                "t",
                &ThreadUpdate {
                    metadata: Some(metadata(json!({ "k": nested(MAX_STORED_DEPTH) }))),
                    ..ThreadUpdate::default()
                }
            )
            .await,
        Err(StorageError::TooDeep { .. })
    ));
    assert_eq!(storage.get_thread("m").await.unwrap(), None);

    let mut deep_run = run(
        "wf",
        "r",
        WorkflowRunStatus::Running,
        Timestamp::now().millis(),
    );
    deep_run.snapshot = json!({ "context": { "input": nested(MAX_STORED_DEPTH) } });
    assert!(matches!(
        storage.save_workflow_run(&deep_run).await,
        Err(StorageError::TooDeep { .. })
    ));
    assert!(matches!(
        storage.claim_workflow_run(&deep_run).await,
        Err(StorageError::TooDeep { .. })
    ));
    assert_eq!(storage.get_workflow_run("wf", "r").await.unwrap(), None);
    let mut deep_agent = agent_run("a", AgentRunStatus::Suspended, 1);
    deep_agent.snapshot = nested(MAX_STORED_DEPTH + 1);
    assert!(matches!(
        storage.save_agent_run(&deep_agent).await,
        Err(StorageError::TooDeep { .. })
    ));
}

async fn pages_past_the_maximum_are_refused(backend: Backend) {
    let store = TestStore::open(backend, "page-limit").await;
    let storage = &store.storage;
    let over = page(0, MAX_PER_PAGE + 1);
    assert_eq!(
        storage
            .list_threads(&ThreadFilter::default(), over)
            .await
            .unwrap_err(),
        StorageError::PageTooLarge {
            requested: MAX_PER_PAGE + 1,
            limit: MAX_PER_PAGE
        }
    );
    assert!(storage
        .list_messages("t", over, SortDirection::Asc)
        .await
        .is_err());
    assert!(storage
        .list_workflow_runs(&WorkflowRunFilter::new("wf"), over)
        .await
        .is_err());
    assert!(storage
        .list_agent_runs(&AgentRunFilter::new("agent"), over)
        .await
        .is_err());
    // Page numbers far past the end answer an empty page, not an overflow.
    let far = PageRequest {
        page: u32::MAX,
        per_page: Some(MAX_PER_PAGE),
    };
    let empty = storage
        .list_threads(&ThreadFilter::default(), far)
        .await
        .unwrap();
    assert!(empty.items.is_empty() && !empty.has_more);
}

/// A `mastra.db` made before this change (the schema of SQLite migrations 1 and 2, recorded in
/// `_sqlx_migrations` as sqlx recorded them) opens: later migrations are applied, and its
/// threads, messages and runs read back in their order.
#[tokio::test]
async fn an_existing_sqlite_file_opens_and_keeps_its_data() {
    use mastra_runtime::memory::{SqliteStorage, Storage};
    use sqlx::{
        migrate::{Migration, MigrationType, Migrator},
        sqlite::SqliteConnectOptions,
        ConnectOptions, SqlSafeStr,
    };

    let path = mastra_tests::temp_dir("sqlite-upgrade").join("mastra.db");
    let mut conn = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .expect("create the old file");
    let old = [
        (
            1,
            "threads and messages",
            include_str!(
                "../../mastra-runtime/src/memory/migrations/0001_threads_and_messages.sql"
            ),
        ),
        (
            2,
            "workflow runs",
            include_str!("../../mastra-runtime/src/memory/migrations/0002_workflow_runs.sql"),
        ),
    ];
    let migrations = old
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
        .run_direct(None, &mut conn, false)
        .await
        .expect("the old schema");
    for (seq, id, text) in [(1, "m1", "first"), (2, "m2", "second")] {
        sqlx::query(
            "INSERT INTO mastra_threads (id, resource_id, title, metadata, created_at, updated_at) \
             VALUES ('old', 'alice', 'Old', NULL, 1, 1) ON CONFLICT DO NOTHING",
        )
        .execute(&mut conn)
        .await
        .expect("a thread");
        sqlx::query(
            "INSERT INTO mastra_messages (seq, id, thread_id, resource_id, role, content, created_at) \
             VALUES ($1, $2, 'old', 'alice', 'user', $3, 1)",
        )
        .bind(seq)
        .bind(id)
        .bind(serde_json::to_string(&MessageContent::text(text)).unwrap())
        .execute(&mut conn)
        .await
        .expect("a message");
    }
    drop(conn);

    let storage = SqliteStorage::file(&path);
    storage.init().await.expect("the old file opens");
    let thread = storage.get_thread("old").await.unwrap().unwrap();
    assert_eq!(thread.title.as_deref(), Some("Old"));
    let listed = storage
        .list_messages("old", every(), SortDirection::Asc)
        .await
        .unwrap();
    assert_eq!(texts(&listed), ["first", "second"]);
    storage
        .append_messages(&thread, &[text(&thread, MessageRole::User, "third")])
        .await
        .unwrap();
    // A table of a later migration is there and works.
    storage
        .save_agent_run(&agent_run("after", AgentRunStatus::Suspended, 1))
        .await
        .unwrap();
    assert!(storage
        .get_agent_run("agent", "after")
        .await
        .unwrap()
        .is_some());
}
