//! A fake Kubernetes API server for tests: the requests kube-rs makes for ProwJobs and Pods,
//! answered from memory on 127.0.0.1.
//!
//! It keeps objects as JSON with the API server's bookkeeping: one resource version counter
//! for everything, `uid` and `creationTimestamp` on create, `409 AlreadyExists` on a second
//! create, `409 Conflict` when a replace or a delete precondition names a stale
//! `resourceVersion`, `404 NotFound`, `Status` bodies, label selectors on list and watch, and
//! `watch=true` streams replaying every change after the given `resourceVersion`. Pods are
//! created `Pending`; tests play the kubelet with [`FakeApiServer::modify`].
//!
//! The server runs on its own thread and runtime, so tests may pause their tokio clock
//! without stopping it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prow_core::k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::store::Selector;

/// The kinds of object the fake serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Resource {
    /// `prowjobs.prow.k8s.io/v1`.
    ProwJobs,
    /// Core `v1` pods.
    Pods,
    /// Core `v1` ConfigMaps (config-updater).
    ConfigMaps,
}

impl Resource {
    fn api_version(self) -> &'static str {
        match self {
            Resource::ProwJobs => "prow.k8s.io/v1",
            Resource::Pods => "v1",
            Resource::ConfigMaps => "v1",
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Resource::ProwJobs => "ProwJob",
            Resource::Pods => "Pod",
            Resource::ConfigMaps => "ConfigMap",
        }
    }

    fn group(self) -> &'static str {
        match self {
            Resource::ProwJobs => "prow.k8s.io",
            Resource::Pods => "",
            Resource::ConfigMaps => "",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            Resource::ProwJobs => "prowjobs",
            Resource::Pods => "pods",
            Resource::ConfigMaps => "configmaps",
        }
    }

    /// How the API server names the resource in messages: `prowjobs.prow.k8s.io`, `pods`.
    fn qualified(self) -> String {
        match self.group() {
            "" => self.plural().to_owned(),
            group => format!("{}.{group}", self.plural()),
        }
    }
}

type Key = (Resource, String, String);

#[derive(Debug, Clone)]
struct Event {
    resource: Resource,
    namespace: String,
    version: u64,
    kind: &'static str,
    object: Value,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<Key, Value>,
    version: u64,
    log: Vec<Event>,
    now: Option<Timestamp>,
    interfere: HashSet<(Resource, String)>,
    requests: Vec<String>,
    /// Containers' logs by namespace, pod and container.
    pod_logs: BTreeMap<(String, String, String), String>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Event>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    fn now(&self) -> String {
        self.now.unwrap_or_else(Timestamp::now).to_string()
    }

    fn commit(
        &mut self,
        shared_events: &broadcast::Sender<Event>,
        key: &Key,
        kind: &'static str,
        mut object: Value,
    ) -> Value {
        self.version += 1;
        object["metadata"]["resourceVersion"] = json!(self.version.to_string());
        let event = Event {
            resource: key.0,
            namespace: key.1.clone(),
            version: self.version,
            kind,
            object: object.clone(),
        };
        if kind == "DELETED" {
            self.objects.remove(key);
        } else {
            self.objects.insert(key.clone(), object.clone());
        }
        self.log.push(event.clone());
        let _ = shared_events.send(event);
        object
    }
}

/// A running fake API server; stops when dropped.
#[derive(Debug)]
pub struct FakeApiServer {
    url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn status(
    code: StatusCode,
    reason: &str,
    message: String,
    resource: Resource,
    name: &str,
) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": {"name": name, "group": resource.group(), "kind": resource.plural()},
        "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

fn not_found(resource: Resource, name: &str) -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("{} {name:?} not found", resource.qualified()),
        resource,
        name,
    )
}

fn conflict(resource: Resource, name: &str, detail: &str) -> Response {
    status(
        StatusCode::CONFLICT,
        "Conflict",
        format!(
            "Operation cannot be fulfilled on {} {name:?}: {detail}",
            resource.qualified()
        ),
        resource,
        name,
    )
}

fn bad_request(resource: Resource, name: &str, message: String) -> Response {
    status(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        message,
        resource,
        name,
    )
}

fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn selector(query: &HashMap<String, String>) -> Result<Option<Selector>, String> {
    match query.get("labelSelector").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|e| format!("labelSelector: {e}")),
    }
}

fn matches(selector: Option<&Selector>, object: &Value) -> bool {
    selector.is_none_or(|s| s.matches(&labels_of(object)))
}

fn parse_body(resource: Resource, body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(bad_request(
            resource,
            "",
            format!("the request body is not valid JSON: {e}"),
        ))
    })
}

async fn list_or_watch(
    shared: Arc<Shared>,
    resource: Resource,
    ns: String,
    query: HashMap<String, String>,
) -> Response {
    let selector = match selector(&query) {
        Ok(s) => s,
        Err(e) => return bad_request(resource, "", e),
    };
    let watching = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
    let mut inner = shared.lock();
    inner.requests.push(format!(
        "{} {} {ns}{}",
        if watching { "WATCH" } else { "LIST" },
        resource.plural(),
        query
            .get("labelSelector")
            .map(|s| format!(" labelSelector={s}"))
            .unwrap_or_default()
    ));
    if !watching {
        let items: Vec<Value> = inner
            .objects
            .iter()
            .filter(|((r, n, _), o)| *r == resource && *n == ns && matches(selector.as_ref(), o))
            .map(|(_, o)| o.clone())
            .collect();
        let body = json!({
            "apiVersion": resource.api_version(),
            "kind": format!("{}List", resource.kind()),
            "metadata": {"resourceVersion": inner.version.to_string()},
            "items": items,
        });
        return axum::Json(body).into_response();
    }
    let from: u64 = query
        .get("resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(inner.version);
    let relevant = move |e: &Event| {
        e.resource == resource
            && e.namespace == ns
            && e.version > from
            && matches(selector.as_ref(), &e.object)
    };
    let backlog: std::collections::VecDeque<Event> =
        inner.log.iter().filter(|e| relevant(e)).cloned().collect();
    // Subscribed under the lock: nothing committed after the backlog is missed.
    let live = shared.events.subscribe();
    drop(inner);
    let stream = futures::stream::unfold(
        (backlog, live, relevant),
        |(mut backlog, mut live, relevant)| async move {
            let event = match backlog.pop_front() {
                Some(event) => event,
                None => loop {
                    match live.recv().await {
                        Ok(event) if relevant(&event) => break event,
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                },
            };
            let mut line = serde_json::to_vec(&json!({"type": event.kind, "object": event.object}))
                .unwrap_or_default();
            line.push(b'\n');
            Some((
                Ok::<_, Infallible>(Bytes::from(line)),
                (backlog, live, relevant),
            ))
        },
    );
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response())
}

async fn create(shared: Arc<Shared>, resource: Resource, ns: String, body: Bytes) -> Response {
    let mut object = match parse_body(resource, &body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut inner = shared.lock();
    inner
        .requests
        .push(format!("CREATE {} {ns}/{name}", resource.plural()));
    if name.is_empty() {
        return status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                resource.kind()
            ),
            resource,
            "",
        );
    }
    if object["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|v| !v.is_empty())
    {
        return bad_request(
            resource,
            &name,
            "resourceVersion should not be set on objects to be created".to_owned(),
        );
    }
    let key = (resource, ns.clone(), name.clone());
    if inner.objects.contains_key(&key) {
        return status(
            StatusCode::CONFLICT,
            "AlreadyExists",
            format!("{} {name:?} already exists", resource.qualified()),
            resource,
            &name,
        );
    }
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind());
    object["metadata"]["namespace"] = json!(ns);
    object["metadata"]["uid"] = json!(uuid::Uuid::new_v4().to_string());
    object["metadata"]["creationTimestamp"] = json!(inner.now());
    object["metadata"]["generation"] = json!(1);
    if resource == Resource::Pods && object["status"]["phase"].is_null() {
        object["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
    }
    let stored = inner.commit(&shared.events, &key, "ADDED", object);
    (StatusCode::CREATED, axum::Json(stored)).into_response()
}

async fn read(shared: Arc<Shared>, resource: Resource, ns: String, name: String) -> Response {
    let mut inner = shared.lock();
    inner
        .requests
        .push(format!("GET {} {ns}/{name}", resource.plural()));
    match inner.objects.get(&(resource, ns, name.clone())) {
        Some(object) => axum::Json(object.clone()).into_response(),
        None => not_found(resource, &name),
    }
}

/// A container's log (`pods/<name>/log?container=`), the last `limitBytes` when given.
async fn pod_log(
    shared: Arc<Shared>,
    ns: String,
    name: String,
    query: HashMap<String, String>,
) -> Response {
    let mut inner = shared.lock();
    let container = query.get("container").cloned().unwrap_or_default();
    inner
        .requests
        .push(format!("LOG pods {ns}/{name} container={container}"));
    if !inner
        .objects
        .contains_key(&(Resource::Pods, ns.clone(), name.clone()))
    {
        return not_found(Resource::Pods, &name);
    }
    let Some(log) = inner.pod_logs.get(&(ns, name.clone(), container)) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("container of pod {name:?} has no log"),
            Resource::Pods,
            &name,
        );
    };
    let limit = query
        .get("limitBytes")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let start = log.len().saturating_sub(limit);
    let start = (start..=log.len())
        .find(|i| log.is_char_boundary(*i))
        .unwrap_or(log.len());
    log[start..].to_owned().into_response()
}

fn interfere(shared: &Shared, inner: &mut Inner, key: &Key) {
    if !inner.interfere.remove(&(key.0, key.2.clone())) {
        return;
    }
    if let Some(mut object) = inner.objects.get(key).cloned() {
        object["metadata"]["annotations"]["fake.prow-rs.dev/concurrent-writer"] = json!("was here");
        inner.commit(&shared.events, key, "MODIFIED", object);
    }
}

async fn replace(
    shared: Arc<Shared>,
    resource: Resource,
    ns: String,
    name: String,
    body: Bytes,
) -> Response {
    let mut object = match parse_body(resource, &body) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let mut inner = shared.lock();
    inner
        .requests
        .push(format!("REPLACE {} {ns}/{name}", resource.plural()));
    let key = (resource, ns.clone(), name.clone());
    interfere(&shared, &mut inner, &key);
    let Some(stored) = inner.objects.get(&key).cloned() else {
        return not_found(resource, &name);
    };
    if object["metadata"]["name"].as_str() != Some(name.as_str()) {
        return bad_request(
            resource,
            &name,
            "the name of the object does not match the name on the URL".to_owned(),
        );
    }
    let given = object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default();
    if !given.is_empty()
        && given
            != stored["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
    {
        return conflict(
            resource,
            &name,
            "the object has been modified; please apply your changes to the latest version and try again",
        );
    }
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind());
    object["metadata"]["namespace"] = json!(ns);
    for kept in [
        "uid",
        "creationTimestamp",
        "generation",
        "deletionTimestamp",
    ] {
        object["metadata"][kept] = stored["metadata"][kept].clone();
    }
    let stored = inner.commit(&shared.events, &key, "MODIFIED", object);
    axum::Json(stored).into_response()
}

async fn delete(
    shared: Arc<Shared>,
    resource: Resource,
    ns: String,
    name: String,
    body: Bytes,
) -> Response {
    let options = if body.is_empty() {
        Value::Null
    } else {
        match parse_body(resource, &body) {
            Ok(o) => o,
            Err(r) => return *r,
        }
    };
    let mut inner = shared.lock();
    inner
        .requests
        .push(format!("DELETE {} {ns}/{name}", resource.plural()));
    let key = (resource, ns, name.clone());
    interfere(&shared, &mut inner, &key);
    let Some(mut stored) = inner.objects.get(&key).cloned() else {
        return not_found(resource, &name);
    };
    let preconditions = &options["preconditions"];
    for (field, label) in [("resourceVersion", "ResourceVersion"), ("uid", "UID")] {
        let want = preconditions[field].as_str().unwrap_or_default();
        let have = stored["metadata"][field].as_str().unwrap_or_default();
        if !want.is_empty() && want != have {
            return conflict(
                resource,
                &name,
                &format!(
                    "Precondition failed: {label} in precondition: {want}, {label} in object meta: {have}"
                ),
            );
        }
    }
    let finalizers = stored["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    let stored = if finalizers {
        if stored["metadata"]["deletionTimestamp"].is_null() {
            stored["metadata"]["deletionTimestamp"] = json!(inner.now());
            inner.commit(&shared.events, &key, "MODIFIED", stored)
        } else {
            stored
        }
    } else {
        inner.commit(&shared.events, &key, "DELETED", stored)
    };
    axum::Json(stored).into_response()
}

fn routes(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for (resource, prefix) in [
        (
            Resource::ProwJobs,
            "/apis/prow.k8s.io/v1/namespaces/{ns}/prowjobs",
        ),
        (Resource::Pods, "/api/v1/namespaces/{ns}/pods"),
        (Resource::ConfigMaps, "/api/v1/namespaces/{ns}/configmaps"),
    ] {
        let collection = get(
            move |State(s): State<Arc<Shared>>,
                  Path(ns): Path<String>,
                  Query(q): Query<HashMap<String, String>>| {
                list_or_watch(s, resource, ns, q)
            },
        )
        .post(
            move |State(s): State<Arc<Shared>>, Path(ns): Path<String>, body: Bytes| {
                create(s, resource, ns, body)
            },
        );
        let item = get(
            move |State(s): State<Arc<Shared>>, Path((ns, name)): Path<(String, String)>| {
                read(s, resource, ns, name)
            },
        )
        .put(
            move |State(s): State<Arc<Shared>>,
                  Path((ns, name)): Path<(String, String)>,
                  body: Bytes| { replace(s, resource, ns, name, body) },
        )
        .delete(
            move |State(s): State<Arc<Shared>>,
                  Path((ns, name)): Path<(String, String)>,
                  body: Bytes| { delete(s, resource, ns, name, body) },
        );
        router = router
            .route(prefix, collection)
            .route(&format!("{prefix}/{{name}}"), item);
    }
    router = router.route(
        "/api/v1/namespaces/{ns}/pods/{name}/log",
        get(
            |State(s): State<Arc<Shared>>,
             Path((ns, name)): Path<(String, String)>,
             Query(q): Query<HashMap<String, String>>| pod_log(s, ns, name, q),
        ),
    );
    router.with_state(shared)
}

impl FakeApiServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            events,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = routes(shared.clone());
        let thread = std::thread::Builder::new()
            .name("fake-kube-apiserver".to_owned())
            .spawn(move || {
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime ends open watch streams.
                drop(runtime);
            })?;
        Ok(FakeApiServer {
            url,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The server's base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A kube client for the server, without connect or read timeouts (so tests may pause
    /// tokio's clock while requests are in flight).
    pub fn client(&self) -> kube::Client {
        let uri = self.url.parse().unwrap_or_default();
        let mut config = kube::Config::new(uri);
        config.connect_timeout = None;
        config.read_timeout = None;
        config.write_timeout = None;
        super::client(config).unwrap_or_else(|e| panic!("kube client for {}: {e}", self.url))
    }

    /// Stamps `creationTimestamp` and `deletionTimestamp` with `now` instead of the system
    /// clock from now on.
    pub fn set_now(&self, now: Timestamp) {
        self.shared.lock().now = Some(now);
    }

    /// The object `namespace/name`, as stored.
    pub fn get(&self, resource: Resource, namespace: &str, name: &str) -> Option<Value> {
        self.shared
            .lock()
            .objects
            .get(&(resource, namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// The names of the objects in `namespace`, sorted.
    pub fn names(&self, resource: Resource, namespace: &str) -> Vec<String> {
        self.shared
            .lock()
            .objects
            .keys()
            .filter(|(r, n, _)| *r == resource && n == namespace)
            .map(|(_, _, name)| name.clone())
            .collect()
    }

    /// Changes a stored object as another client would (a kubelet setting a pod's status):
    /// bumps its resource version and tells watchers. Returns the object as stored, or `None`
    /// when it does not exist.
    pub fn modify(
        &self,
        resource: Resource,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Option<Value> {
        let key = (resource, namespace.to_owned(), name.to_owned());
        let mut inner = self.shared.lock();
        let mut object = inner.objects.get(&key)?.clone();
        change(&mut object);
        Some(inner.commit(&self.shared.events, &key, "MODIFIED", object))
    }

    /// Sets the log `container` of pod `namespace/name` has written so far (what a kubelet
    /// serves at `pods/<name>/log`).
    pub fn set_pod_log(&self, namespace: &str, name: &str, container: &str, log: &str) {
        self.shared.lock().pod_logs.insert(
            (namespace.to_owned(), name.to_owned(), container.to_owned()),
            log.to_owned(),
        );
    }

    /// Makes the next replace or delete of `name` lose a race: just before it is handled,
    /// another writer changes the object, so the request's `resourceVersion` is stale.
    pub fn race_next_write(&self, resource: Resource, name: &str) {
        self.shared
            .lock()
            .interfere
            .insert((resource, name.to_owned()));
    }

    /// Every request served so far, one line each (`CREATE pods ns/name`, `LIST prowjobs ns`,
    /// `WATCH pods ns labelSelector=...`).
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }
}
