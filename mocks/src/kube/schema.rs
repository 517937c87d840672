//! Field validation as kube-apiserver does it: a write's fields are checked against its kind's
//! schema, taken from the maintained Kubernetes types (`k8s-openapi`'s JSON Schemas, the
//! definitions kube-apiserver publishes), and the `fieldValidation` directive decides what an
//! unknown field does: `Strict` (what kubectl sends by default) refuses the write with the
//! decoder's `strict decoding error: unknown field "spec.replica"`, `Warn` (the server's
//! default when the directive is absent) accepts it with a `Warning` header kubectl prints,
//! `Ignore` drops it silently. The Cluster API kinds have no schema here and are not checked.
//!
//! A JSON patch is checked as the object it makes, for the fields its operations write. Not
//! checked: duplicate fields (the JSON is parsed before this sees it), server-side apply's
//! configurations, and value types (the kinds' own handlers refuse some).

use super::discovery::Resource;
use super::status::KubeError;
use k8s_openapi::api::{apps, batch, coordination, core, policy, rbac, storage};
use schemars::JsonSchema;
use serde_json::Value;
use std::sync::OnceLock;

/// What a write does with fields its kind does not declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

/// The kind of write, for the options type named in an invalid parameter's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    Create,
    Update,
    Patch,
}

impl Write {
    /// The options type a write's query parameters are validated as.
    pub fn options(self) -> &'static str {
        match self {
            Write::Create => "CreateOptions.meta.k8s.io",
            Write::Update => "UpdateOptions.meta.k8s.io",
            Write::Patch => "PatchOptions.meta.k8s.io",
        }
    }
}

impl FieldValidation {
    /// The `fieldValidation` query parameter (`ValidateFieldValidation`): absent or empty is
    /// `Warn`; anything else but the three is a 422 on the request's options.
    pub fn parse(directive: Option<&str>, write: Write) -> Result<FieldValidation, KubeError> {
        match directive.unwrap_or("") {
            "" | "Warn" => Ok(FieldValidation::Warn),
            "Strict" => Ok(FieldValidation::Strict),
            "Ignore" => Ok(FieldValidation::Ignore),
            other => {
                Err(KubeError::invalid(
                    write.options(),
                    "",
                    &format!("fieldValidation: Unsupported value: \"{other}\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""),
                ))
            }
        }
    }
}

/// Checks `body` (an object, or a merge or strategic-merge patch of one) of kind `r`: under
/// `Strict` an unknown field is an error, under `Warn` each is returned as a warning text.
pub fn check(
    r: Resource,
    body: &Value,
    directive: FieldValidation,
    write: Write,
) -> Result<Vec<String>, KubeError> {
    check_fields(r, body, directive, write, Subject::All)
}

/// Which unknown fields count: all of them, or those under the paths a JSON patch wrote.
#[derive(Clone, Copy, Debug)]
pub enum Subject<'a> {
    All,
    Only(&'a [String]),
}

/// As [`check`], counting only the unknown fields `subject` names.
pub fn check_fields(
    r: Resource,
    body: &Value,
    directive: FieldValidation,
    write: Write,
    subject: Subject<'_>,
) -> Result<Vec<String>, KubeError> {
    if directive == FieldValidation::Ignore {
        return Ok(Vec::new());
    }
    let mut unknown = unknown_fields(r, body);
    if let Subject::Only(paths) = subject {
        unknown.retain(|f| paths.iter().any(|p| under(f, p)));
    }
    if unknown.is_empty() {
        return Ok(Vec::new());
    }
    let texts: Vec<String> = unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if directive == FieldValidation::Warn {
        return Ok(texts);
    }
    let strict = format!("strict decoding error: {}", texts.join(", "));
    let message = match write {
        // The decoder of a create or update names the kind it could not decode into.
        Write::Create | Write::Update => format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {strict}",
            kind = r.kind(),
            version = super::discovery::version_of(r.group()),
        ),
        Write::Patch => strict,
    };
    Err(KubeError::bad_request(message))
}

/// Whether field path `f` is `p` or inside it (`spec.a` is under `spec`, `spec.ab` is not).
fn under(f: &str, p: &str) -> bool {
    f == p
        || (f.starts_with(p) && matches!(f.as_bytes().get(p.len()), Some(b'.') | Some(b'[')))
        || p.is_empty()
}

/// A JSON pointer (`/spec/template/spec/containers/0/image`) as a field path
/// (`spec.template.spec.containers[0].image`), up to an append (`-`).
pub fn pointer_path(pointer: &str) -> String {
    let mut out = String::new();
    for seg in pointer.split('/').skip(1) {
        if seg == "-" {
            break;
        }
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// The `Warning` header value kube-apiserver sends for a warning text (code 299, agent `-`).
pub fn warning_header(text: &str) -> String {
    format!(
        "299 - \"{}\"",
        text.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// The paths of `body`'s fields that `r`'s schema does not declare, as the strict decoder
/// writes them (`spec.template.spec.containers[0].imagePullPolcy`).
pub fn unknown_fields(r: Resource, body: &Value) -> Vec<String> {
    unknown_in(r, body, Style::Decoder)
}

/// How a field path is written.
#[derive(Clone, Copy)]
enum Style {
    /// The strict JSON decoder's: `spec.containers[0].image`.
    Decoder,
    /// structured-merge-diff's: `.spec.containers[name="nginx"].image`.
    Typed,
}

fn unknown_in(r: Resource, body: &Value, style: Style) -> Vec<String> {
    let Some(KindSchema { root, .. }) = schema_of(r) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let at = Walk { root, style };
    at.walk(body, root, ("", ""), &mut out);
    out
}

/// A server-side apply configuration is made a typed object before anything is applied
/// (kube-apiserver's `failed to create typed patch object`): a field `r`'s schema does not
/// declare, or two items of a keyed list with one key, refuse it, with a 500 and no reason,
/// as upstream answers an error the decoder did not make a Status of.
pub fn check_applied(r: Resource, config: &Value) -> Result<(), KubeError> {
    let mut errors: Vec<String> = unknown_in(r, config, Style::Typed)
        .into_iter()
        .map(|p| format!("{p}: field not declared in schema"))
        .collect();
    if let Some(KindSchema { root, .. }) = schema_of(r) {
        let types = Types { root };
        types.not_numeric(config, root, "", &mut errors);
    }
    if let Some(m) = config.as_object() {
        errors.extend(super::managed::duplicates(m));
    }
    let text = match errors.as_slice() {
        [] => return Ok(()),
        [one] => one.clone(),
        many => format!("errors:\n  {}", many.join("\n  ")),
    };
    let meta = |f: &str| {
        config["metadata"][f]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let (group, version) = (r.group(), super::discovery::version_of(r.group()));
    Err(KubeError::without_reason(
        500,
        format!(
            "failed to create typed patch object ({}/{}; {group}/{version}, Kind={}): {text}",
            meta("namespace"),
            meta("name"),
            r.kind()
        ),
    ))
}

struct Walk<'a> {
    root: &'a Value,
    style: Style,
}

impl Walk<'_> {
    /// Walks `value` against `schema`; `(path, field)`: where it is, and the field it is under.
    fn walk(
        &self,
        value: &Value,
        schema: &Value,
        (path, field): (&str, &str),
        out: &mut Vec<String>,
    ) {
        let schema = resolve(schema, self.root);
        match value {
            Value::Object(fields) => {
                let props = schema.get("properties").and_then(Value::as_object);
                let extra = schema.get("additionalProperties");
                if props.is_none() && extra.is_none() {
                    return; // free-form (RawExtension, FieldsV1)
                }
                for (key, v) in fields {
                    // Nulls delete; `$patch`, `$retainKeys`, `$setElementOrder/...` are
                    // strategic merge directives.
                    if v.is_null() || key.starts_with('$') {
                        continue;
                    }
                    let here = match (self.style, path) {
                        (Style::Decoder, "") => key.clone(),
                        _ => format!("{path}.{key}"),
                    };
                    match (props.and_then(|p| p.get(key)), extra) {
                        (Some(s), _) => self.walk(v, s, (&here, key), out),
                        (None, Some(Value::Bool(true))) => {}
                        (None, Some(s @ Value::Object(_))) => self.walk(v, s, (&here, key), out),
                        (None, _) => out.push(here),
                    }
                }
            }
            Value::Array(items) => {
                if let Some(s) = schema.get("items") {
                    for (i, v) in items.iter().enumerate() {
                        let here = match self.style {
                            Style::Decoder => format!("{path}[{i}]"),
                            Style::Typed => {
                                format!("{path}{}", super::managed::item_text(field, v, i))
                            }
                        };
                        self.walk(v, s, (&here, ""), out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// A create or update whose body has a value of the wrong JSON type for its field is refused
/// as the decoder refuses it, before field validation (`Deployment in version "v1" cannot be
/// handled as a Deployment: json: cannot unmarshal string into Go struct field
/// DeploymentSpec.spec.replicas of type int32`).
pub fn check_types(r: Resource, body: &Value) -> Result<(), KubeError> {
    match type_error(r, body) {
        Some(e) => Err(KubeError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: {e}",
            kind = r.kind(),
            version = super::discovery::version_of(r.group()),
        ))),
        None => Ok(()),
    }
}

/// The first value of `body` of a JSON type its field does not take, as Go's decoder words it
/// (`json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type
/// int32`); a create or update so typed is refused before anything else is looked at.
pub fn type_error(r: Resource, body: &Value) -> Option<String> {
    let KindSchema { name, root } = schema_of(r)?;
    let types = Types { root };
    types.object(body, root, go_struct(name), "")
}

/// A strategic merge patch that makes an integer or boolean field a string, a list or a map
/// is refused as the unstructured converter refuses the patched object: a 422 quoting the
/// patch as Go prints a map (`patch: Invalid value: "map[spec:map[replicas:two]]":
/// unrecognized type: int32`).
pub fn check_patched_types(r: Resource, patch: &Value, patched: &Value) -> Result<(), KubeError> {
    let Some(e) = type_error(r, patched) else {
        return Ok(());
    };
    let go = e.rsplit(" of type ").next().unwrap_or_default();
    if !matches!(go, "int32" | "int64" | "bool") || e.starts_with("json: cannot unmarshal number ")
    {
        return Ok(()); // what the converter makes of other mismatches is not modelled
    }
    Err(KubeError::invalid(
        "",
        "",
        &format!(
            "patch: Invalid value: {}: unrecognized type: {go}",
            magsim_sim::gostd::go_quote(&go_value(patch))
        ),
    ))
}

/// A merge or JSON patch whose patched object has a value of the wrong type is refused as the
/// decoder refuses that object: a 422 quoting the object (`patch: Invalid value: "{...}":
/// json: cannot unmarshal string into Go struct field ...`).
pub fn check_merged_types(r: Resource, patched: &Value) -> Result<(), KubeError> {
    let Some(e) = type_error(r, patched) else {
        return Ok(());
    };
    Err(KubeError::invalid(
        "",
        "",
        &format!(
            "patch: Invalid value: {}: {e}",
            magsim_sim::gostd::go_quote(&patched.to_string())
        ),
    ))
}

/// A JSON value as Go's `%+v` prints the map it decodes to (keys sorted).
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(go_value).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_value(&m[*k])))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → `DeploymentSpec`.
fn go_struct(definition: &str) -> &str {
    definition.rsplit('.').next().unwrap_or(definition)
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → `v1.DeploymentSpec`, as Go prints a type.
fn go_type(definition: &str) -> String {
    let mut parts = definition.rsplit('.');
    let name = parts.next().unwrap_or(definition);
    match parts.next() {
        Some(package) => format!("{package}.{name}"),
        None => name.to_string(),
    }
}

struct Types<'a> {
    root: &'a Value,
}

impl<'a> Types<'a> {
    /// Follows `$ref`s, with the name of the definition reached, if any.
    fn resolve(&self, schema: &'a Value) -> (&'a Value, Option<&'a str>) {
        let mut s = schema;
        let mut name = None;
        for _ in 0..32 {
            let Some(target) = s.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let n = target.rsplit('/').next().unwrap_or_default();
            match self.root.get("$defs").and_then(|d| d.get(n)) {
                Some(def) => {
                    s = def;
                    name = Some(n);
                }
                None => break,
            }
        }
        (s, name)
    }

    /// The fields of `value`, an object of Go struct `strukt` at `path`.
    fn object(&self, value: &Value, schema: &'a Value, strukt: &str, path: &str) -> Option<String> {
        let (schema, _) = self.resolve(schema);
        let props = schema.get("properties")?.as_object()?;
        for (key, v) in value.as_object()? {
            let Some(s) = props.get(key) else { continue };
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if let Some(e) = self.field(v, s, strukt, &here) {
                return Some(e);
            }
        }
        None
    }

    /// `value` for a field of `strukt` at `path` whose schema is `schema`.
    fn field(&self, value: &Value, schema: &'a Value, strukt: &str, path: &str) -> Option<String> {
        let (s, def) = self.resolve(schema);
        let got = match value {
            Value::Null => return None,
            Value::String(_) => "string",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let want = match (s.get("type").and_then(Value::as_str), def) {
            (Some("object"), Some(d)) if s.get("properties").is_some() => ("object", go_type(d)),
            (Some("object"), _) => return None, // a map: its values are not checked
            (Some("array"), _) => {
                let item = s.get("items")?;
                let (is, idef) = self.resolve(item);
                let elem = match (is.get("type").and_then(Value::as_str), idef) {
                    (_, Some(d)) => go_type(d),
                    (Some(t), None) => scalar_go_type(t, is)?.to_string(),
                    _ => return None,
                };
                if let Value::Array(items) = value {
                    return items.iter().find_map(|v| self.item(v, item, path));
                }
                ("array", format!("[]{elem}"))
            }
            (Some(t), _) => match scalar_go_type(t, s) {
                Some(go) => (json_kind(t), go.to_string()),
                None => return None,
            },
            (None, _) => return None, // int-or-string, quantities, free-form
        };
        if got == want.0 {
            return match value {
                Value::Object(_) => self.object(value, s, def.map_or(strukt, go_struct), path),
                Value::Number(n) if want.1.starts_with("int") && n.as_i64().is_none() => Some(
                    format!("json: cannot unmarshal number {n} into Go struct field {strukt}.{path} of type {}", want.1),
                ),
                _ => None,
            };
        }
        Some(format!(
            "json: cannot unmarshal {got} into Go struct field {strukt}.{path} of type {}",
            want.1
        ))
    }

    /// structured-merge-diff's refusal of a number field given something else, at `path`
    /// (`.spec.replicas: expected numeric (int or float), got string`).
    fn not_numeric(&self, value: &Value, schema: &'a Value, path: &str, out: &mut Vec<String>) {
        let (schema, _) = self.resolve(schema);
        let (Value::Object(fields), Some(props)) =
            (value, schema.get("properties").and_then(Value::as_object))
        else {
            return;
        };
        for (key, v) in fields {
            let Some(s) = props.get(key) else { continue };
            let here = format!("{path}.{key}");
            let (rs, _) = self.resolve(s);
            let numeric = matches!(
                rs.get("type").and_then(Value::as_str),
                Some("integer" | "number")
            );
            let got = match v {
                Value::String(_) => "string",
                Value::Bool(_) => "bool",
                Value::Array(_) => "[]interface {}",
                Value::Object(_) => "map[string]interface {}",
                Value::Null | Value::Number(_) => "",
            };
            if numeric && !got.is_empty() {
                out.push(format!(
                    "{here}: expected numeric (int or float), got {got}"
                ));
            } else if let (Value::Array(items), Some(is)) = (v, rs.get("items")) {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{here}{}", super::managed::item_text(key, item, i));
                    self.not_numeric(item, is, &at, out);
                }
            } else {
                self.not_numeric(v, s, &here, out);
            }
        }
    }

    /// An array's item: the struct it decodes into names its fields' errors (Go leaves the
    /// index out of the path).
    fn item(&self, value: &Value, schema: &'a Value, path: &str) -> Option<String> {
        let (s, def) = self.resolve(schema);
        match (value, def) {
            (Value::Object(_), Some(d)) => self.object(value, s, go_struct(d), path),
            _ => None,
        }
    }
}

/// The JSON kind a schema type takes.
fn json_kind(t: &str) -> &'static str {
    match t {
        "integer" | "number" => "number",
        "boolean" => "bool",
        _ => "string",
    }
}

/// The Go type of a scalar schema (`None`: one the decoder reads its own way, such as times).
fn scalar_go_type(t: &str, s: &Value) -> Option<&'static str> {
    let format = s.get("format").and_then(Value::as_str);
    match (t, format) {
        ("integer", Some("int32")) => Some("int32"),
        ("integer", _) => Some("int64"),
        ("number", _) => Some("float64"),
        ("boolean", _) => Some("bool"),
        ("string", None) => Some("string"),
        _ => None,
    }
}

/// Follows `$ref` (`#/$defs/<name>`) to the definition.
fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut s = schema;
    for _ in 0..32 {
        let Some(target) = s.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let name = target.rsplit('/').next().unwrap_or_default();
        match root.get("$defs").and_then(|d| d.get(name)) {
            Some(def) => s = def,
            None => break,
        }
    }
    s
}

/// A kind's schema: its OpenAPI definition name (`io.k8s.api.apps.v1.Deployment`) and the
/// root JSON Schema, the definitions it refers to under `$defs`.
pub struct KindSchema {
    pub name: String,
    pub root: Value,
}

fn root_for<T: JsonSchema>() -> KindSchema {
    let schema = schemars::SchemaGenerator::default().into_root_schema_for::<T>();
    KindSchema {
        name: T::schema_name().into_owned(),
        root: serde_json::to_value(schema).unwrap_or(Value::Null),
    }
}

/// The JSON Schema of a served kind, generated once; `None` for the Cluster API kinds.
pub fn schema_of(r: Resource) -> Option<&'static KindSchema> {
    macro_rules! cached {
        ($t:ty) => {{
            static S: OnceLock<KindSchema> = OnceLock::new();
            Some(S.get_or_init(root_for::<$t>))
        }};
    }
    match r {
        Resource::Pods => cached!(core::v1::Pod),
        Resource::Nodes => cached!(core::v1::Node),
        Resource::Events => cached!(core::v1::Event),
        Resource::ConfigMaps => cached!(core::v1::ConfigMap),
        Resource::Namespaces => cached!(core::v1::Namespace),
        Resource::Services => cached!(core::v1::Service),
        Resource::PersistentVolumes => cached!(core::v1::PersistentVolume),
        Resource::PersistentVolumeClaims => cached!(core::v1::PersistentVolumeClaim),
        Resource::ReplicationControllers => cached!(core::v1::ReplicationController),
        Resource::Secrets => cached!(core::v1::Secret),
        Resource::ServiceAccounts => cached!(core::v1::ServiceAccount),
        Resource::Deployments => cached!(apps::v1::Deployment),
        Resource::ReplicaSets => cached!(apps::v1::ReplicaSet),
        Resource::DaemonSets => cached!(apps::v1::DaemonSet),
        Resource::StatefulSets => cached!(apps::v1::StatefulSet),
        Resource::Jobs => cached!(batch::v1::Job),
        Resource::PodDisruptionBudgets => cached!(policy::v1::PodDisruptionBudget),
        Resource::StorageClasses => cached!(storage::v1::StorageClass),
        Resource::CsiNodes => cached!(storage::v1::CSINode),
        Resource::CsiDrivers => cached!(storage::v1::CSIDriver),
        Resource::CsiStorageCapacities => cached!(storage::v1::CSIStorageCapacity),
        Resource::Leases => cached!(coordination::v1::Lease),
        Resource::Roles => cached!(rbac::v1::Role),
        Resource::RoleBindings => cached!(rbac::v1::RoleBinding),
        Resource::ClusterRoles => cached!(rbac::v1::ClusterRole),
        Resource::ClusterRoleBindings => cached!(rbac::v1::ClusterRoleBinding),
        Resource::Clusters
        | Resource::MachineDeployments
        | Resource::MachineSets
        | Resource::Machines => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_applied_configuration_is_refused_as_the_typed_converter_words_it() {
        let one = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "default"}, "dta": {"a": "b"},
        });
        let e = check_applied(Resource::ConfigMaps, &one).unwrap_err();
        assert_eq!(e.code, 500);
        assert_eq!(
            e.message,
            "failed to create typed patch object (default/c; /v1, Kind=ConfigMap): .dta: field not declared in schema"
        );
        assert!(
            e.to_json().get("reason").is_none(),
            "no reason: {}",
            e.to_json()
        );
        let env = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"template": {"spec": {"containers": [{"name": "app", "imagePullPolcy": "x",
                "env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]}]}}},
        });
        assert_eq!(
            check_applied(Resource::Deployments, &env).unwrap_err().message,
            "failed to create typed patch object (/d; apps/v1, Kind=Deployment): errors:\n  .spec.template.spec.containers[name=\"app\"].imagePullPolcy: field not declared in schema\n  .spec.template.spec.containers[name=\"app\"].env: duplicate entries for key [name=\"A\"]"
        );
        let typed = json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
            "spec": {"replicas": "two", "template": {"spec": {"containers": [
                {"name": "app", "ports": [{"containerPort": "80"}]}]}}},
        });
        assert_eq!(
            check_applied(Resource::Deployments, &typed).unwrap_err().message,
            "failed to create typed patch object (n/d; apps/v1, Kind=Deployment): errors:\n  .spec.replicas: expected numeric (int or float), got string\n  .spec.template.spec.containers[name=\"app\"].ports[containerPort=\"80\",protocol=\"TCP\"].containerPort: expected numeric (int or float), got string"
        );
        let fine = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}});
        assert!(check_applied(Resource::ConfigMaps, &fine).is_ok());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_refused_in_the_decoder_s_words() {
        let d = |spec: Value| json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": spec});
        let e = check_types(Resource::Deployments, &d(json!({"replicas": "two"}))).unwrap_err();
        assert_eq!((e.code, e.reason), (400, "BadRequest"));
        assert_eq!(
            e.message,
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
        );
        let cases = [
            (json!({"replicas": 2.5}), "json: cannot unmarshal number 2.5 into Go struct field DeploymentSpec.spec.replicas of type int32"),
            (json!({"paused": "yes"}), "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool"),
            (json!({"template": {"spec": {"containers": [{"name": 7}]}}}), "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.name of type string"),
            (json!({"template": {"spec": {"containers": {"name": "x"}}}}), "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"),
            (json!({"strategy": "Recreate"}), "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.strategy of type v1.DeploymentStrategy"),
        ];
        for (spec, want) in cases {
            assert_eq!(
                type_error(Resource::Deployments, &d(spec)).as_deref(),
                Some(want)
            );
        }
        let fine = d(json!({"replicas": 3, "template": {"spec": {"containers": [
            {"name": "c", "resources": {"requests": {"cpu": 1, "memory": "1Gi"}}, "ports": [{"containerPort": 80}]},
        ]}}}));
        assert_eq!(
            type_error(Resource::Deployments, &fine),
            None,
            "quantities take numbers"
        );
    }

    #[test]
    fn a_strategic_patch_of_the_wrong_type_is_refused_as_the_converter_words_it() {
        let patch = json!({"spec": {"replicas": "two", "paused": null}});
        let patched = json!({"spec": {"replicas": "two"}});
        let e = check_patched_types(Resource::Deployments, &patch, &patched).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            " \"\" is invalid: patch: Invalid value: \"map[spec:map[paused:<nil> replicas:two]]\": unrecognized type: int32"
        );
        let fine = json!({"spec": {"replicas": 2}});
        assert!(check_patched_types(Resource::Deployments, &fine, &fine).is_ok());
        let merged = json!({"kind": "Deployment", "spec": {"paused": "yes"}});
        assert_eq!(
            check_merged_types(Resource::Deployments, &merged).unwrap_err().message,
            " \"\" is invalid: patch: Invalid value: \"{\\\"kind\\\":\\\"Deployment\\\",\\\"spec\\\":{\\\"paused\\\":\\\"yes\\\"}}\": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool"
        );
    }

    #[test]
    fn unknown_fields_are_named_by_path() {
        let d = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "x", "labels": {"any": "thing"}, "annotations": null},
            "spec": {"replica": 2, "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [
                    {"name": "c", "image": "i", "resources": {"requests": {"cpu": "1"}}},
                    {"name": "d", "image": "i", "imagePullPolcy": "Always"}]}}},
        });
        assert_eq!(
            unknown_fields(Resource::Deployments, &d),
            [
                "spec.replica",
                "spec.template.spec.containers[1].imagePullPolcy"
            ]
        );
        let patch = json!({"$patch": "merge", "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "c"}], "containers": [{"name": "c", "imag": "j"}]}}}});
        assert_eq!(
            unknown_fields(Resource::Deployments, &patch),
            ["spec.template.spec.containers[0].imag"]
        );
        let secret = json!({"kind": "Secret", "stringData": {"k": "v"}, "dat": {}});
        assert_eq!(unknown_fields(Resource::Secrets, &secret), ["dat"]);
        assert!(unknown_fields(Resource::MachineDeployments, &secret).is_empty());
    }

    #[test]
    fn the_directive_decides() {
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": "x"}, "dta": {}});
        let strict = FieldValidation::parse(Some("Strict"), Write::Create).unwrap();
        let e = check(Resource::ConfigMaps, &cm, strict, Write::Create).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"dta\""
        );
        let e = check(Resource::ConfigMaps, &cm, strict, Write::Patch).unwrap_err();
        assert_eq!(e.message, "strict decoding error: unknown field \"dta\"");
        let warn = FieldValidation::parse(None, Write::Create).unwrap();
        assert_eq!(
            check(Resource::ConfigMaps, &cm, warn, Write::Create).unwrap(),
            ["unknown field \"dta\""]
        );
        let ignore = FieldValidation::parse(Some("Ignore"), Write::Create).unwrap();
        assert!(check(Resource::ConfigMaps, &cm, ignore, Write::Create)
            .unwrap()
            .is_empty());
        assert_eq!(
            pointer_path("/spec/template/spec/containers/0/imag"),
            "spec.template.spec.containers[0].imag"
        );
        assert_eq!(pointer_path("/metadata/labels/a~1b"), "metadata.labels.a/b");
        assert_eq!(pointer_path("/spec/containers/-"), "spec.containers");
        let only = ["spec".to_string()];
        let both = json!({"kind": "ConfigMap", "dta": {}, "spec": {"x": 1}});
        let some = check_fields(
            Resource::ConfigMaps,
            &both,
            strict,
            Write::Patch,
            Subject::Only(&only),
        );
        assert_eq!(
            some.unwrap_err().message,
            "strict decoding error: unknown field \"spec\""
        );
        let bad = FieldValidation::parse(Some("Loose"), Write::Patch).unwrap_err();
        assert_eq!(bad.code, 422);
        assert!(bad.message.starts_with("PatchOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loose\""), "{}", bad.message);
        assert_eq!(
            warning_header("unknown field \"dta\""),
            "299 - \"unknown field \\\"dta\\\"\""
        );
    }
}
