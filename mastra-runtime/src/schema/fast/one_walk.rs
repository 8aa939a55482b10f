//! The quick check done while the body is deserialized, in one walk of its text.
//!
//! [`QuickSchema::accepts`] walks the text once to check it and `serde_json::from_slice` walks
//! it again to build the value: two tokenizations of every string and number. Here the
//! deserializer the handler's type reads from is wrapped ([`Checked`], the way
//! `serde_path_to_error` wraps one) so each value is checked against its schema node as it
//! passes on its way to the type's visitor. The checks are [`Check`]'s, applied to the same
//! values in the same places, so the answers are the same: "certainly valid" (the value is
//! returned) or "not sure" (any error, from a check or from the type itself; the caller then
//! takes the full path).
//!
//! The body's nesting and item count are measured in the same walk (every value goes through
//! the wrapper, also where the schema says nothing), so the caller need not scan the text first:
//! a body past either limit is "not sure", and the full path then refuses it with the same 400
//! as before, from its own scan of the text.
//!
//! What a checked value cannot be seen through is "not sure" too: a byte string, an enum (a
//! JSON `"Variant"` and `{"Variant": null}` reach a visitor the same way; a schema with a
//! string `enum` uses the two walks instead), a map key that is not a string.

use std::{borrow::Cow, cell::Cell, fmt};

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};

use super::{unsure, Check, Checks, Num, QuickSchema, Seen, BOOLEAN, NULL};

impl QuickSchema {
    /// `text` as a `T`, when it is certainly one JSON value the schema accepts, nested at most
    /// `depth_limit` arrays and objects deep and holding at most `item_limit` array elements
    /// and object members; `None` means "not sure", never "invalid".
    pub(crate) fn deserialize<T: DeserializeOwned>(
        &self,
        text: &[u8],
        depth_limit: usize,
        item_limit: usize,
    ) -> Option<T> {
        if self.has_string_enums {
            return if super::super::check_text(text, depth_limit, item_limit).is_ok()
                && self.accepts(text)
            {
                serde_json::from_slice(text).ok()
            } else {
                None
            };
        }
        let budget = Budget {
            depth: Cell::new(depth_limit),
            items: Cell::new(item_limit),
        };
        let mut de = serde_json::Deserializer::from_slice(text);
        let value = T::deserialize(Checked {
            de: &mut de,
            schema: self,
            node: Some(self.root),
            budget: &budget,
        })
        .ok()?;
        de.end().ok()?;
        Some(value)
    }

    /// What `node` checks; `None` is a value the schema says nothing about.
    fn checks_at(&self, node: Option<usize>) -> Result<Option<&Checks>, ()> {
        node.map_or(Ok(None), |node| self.checks_of(node))
    }
}

/// What is left of the nesting and item limits as the walk goes.
struct Budget {
    /// Arrays and objects that may still open inside the current one.
    depth: Cell<usize>,
    /// Array elements and object members still allowed.
    items: Cell<usize>,
}

impl Budget {
    fn enter<E: de::Error>(&self) -> Result<(), E> {
        let left = self.depth.get().checked_sub(1).ok_or_else(unsure)?;
        self.depth.set(left);
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get() + 1);
    }

    fn item<E: de::Error>(&self) -> Result<(), E> {
        let left = self.items.get().checked_sub(1).ok_or_else(unsure)?;
        self.items.set(left);
        Ok(())
    }
}

/// A deserializer whose next value must match `node` (anything when `None`).
struct Checked<'s, D> {
    de: D,
    schema: &'s QuickSchema,
    node: Option<usize>,
    budget: &'s Budget,
}

/// Calls `$methods!` with every `Deserializer` method that both wrappers below forward as
/// they are, plus the `$extra` ones given, so the list is written once. `Checked` writes
/// `deserialize_enum` and `deserialize_ignored_any` itself; `KeyDeserializer` forwards them too.
macro_rules! for_each_forwarded_method {
    ($methods:ident $(, $extra:ident($($arg:ident: $ty:ty),*))*) => {
        $methods! {
            deserialize_any();
            deserialize_bool();
            deserialize_i8();
            deserialize_i16();
            deserialize_i32();
            deserialize_i64();
            deserialize_i128();
            deserialize_u8();
            deserialize_u16();
            deserialize_u32();
            deserialize_u64();
            deserialize_u128();
            deserialize_f32();
            deserialize_f64();
            deserialize_char();
            deserialize_str();
            deserialize_string();
            deserialize_bytes();
            deserialize_byte_buf();
            deserialize_option();
            deserialize_unit();
            deserialize_unit_struct(name: &'static str);
            deserialize_newtype_struct(name: &'static str);
            deserialize_seq();
            deserialize_tuple(len: usize);
            deserialize_tuple_struct(name: &'static str, len: usize);
            deserialize_map();
            deserialize_struct(name: &'static str, fields: &'static [&'static str]);
            deserialize_identifier();
            $($extra($($arg: $ty),*);)*
        }
    };
}

/// Each method: "not sure" for a node nothing matches, otherwise the inner method with a
/// [`CheckedVisitor`].
macro_rules! checked_methods {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            let visitor = self.visitor(visitor)?;
            self.de.$method($($arg,)* visitor)
        }
    )*};
}

impl<'s, D> Checked<'s, D> {
    fn visitor<V, E: de::Error>(&self, inner: V) -> Result<CheckedVisitor<'s, V>, E> {
        Ok(CheckedVisitor {
            inner,
            schema: self.schema,
            node: self.node,
            checks: self.schema.checks_at(self.node).map_err(|()| unsure())?,
            budget: self.budget,
        })
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Checked<'_, D> {
    type Error = D::Error;

    for_each_forwarded_method!(checked_methods);

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        // A schema with a string `enum` takes the two walks; an enum elsewhere is "not sure"
        // (the text of a unit variant, `"V"` or `{"V": null}`, cannot be told apart here).
        let _ = (name, variants, visitor);
        Err(unsure())
    }

    /// A value the type skips (an unknown field) is still checked and counted.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let visitor = self.visitor(visitor)?;
        self.de.deserialize_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// The type's visitor, handed each value once it passed `checks` (the node `node`; `None` for
/// either: anything).
struct CheckedVisitor<'s, V> {
    inner: V,
    schema: &'s QuickSchema,
    node: Option<usize>,
    checks: Option<&'s Checks>,
    budget: &'s Budget,
}

impl<'s, V> CheckedVisitor<'s, V> {
    fn check(&self) -> Check<'s> {
        Check {
            schema: self.schema,
            checks: self.checks,
        }
    }

    /// The same node for a value the inner visitor reads from a deserializer of its own.
    fn same_node<D>(&self, de: D) -> Checked<'s, D> {
        Checked {
            de,
            schema: self.schema,
            node: self.node,
            budget: self.budget,
        }
    }
}

// The narrower integer and float visits default to these (`visit_i8` calls `visit_i64`, and so
// on); everything not listed (bytes, enums, 128-bit integers) is refused by the default
// methods, which is "not sure".
impl<'de, V: Visitor<'de>> Visitor<'de> for CheckedVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.check().scalar(BOOLEAN)?;
        self.inner.visit_bool(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.check().number(Num::I(v), true)?;
        self.inner.visit_i64(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.check().number(Num::U(v), true)?;
        self.inner.visit_u64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // An integer-valued float is an `integer` to JSON Schema; not worth being sure of here.
        self.check().number(Num::F(v), false)?;
        self.inner.visit_f64(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.check().string(v)?;
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.check().string(v)?;
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.check().string(&v)?;
        self.inner.visit_string(v)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.check().scalar(NULL)?;
        self.inner.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let de = self.same_node(de);
        self.inner.visit_some(de)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.check().scalar(NULL)?;
        self.inner.visit_unit()
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        let de = self.same_node(de);
        self.inner.visit_newtype_struct(de)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let check = self.check();
        check.array()?;
        self.budget.enter()?;
        let mut seq = CheckedSeq {
            seq,
            schema: self.schema,
            items: self.checks.and_then(|c| c.items),
            budget: self.budget,
            count: 0,
        };
        let value = self.inner.visit_seq(&mut seq)?;
        self.budget.leave();
        // Complete: serde_json refuses a sequence its visitor left unfinished.
        check.item_count(seq.count)?;
        Ok(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.check().object()?;
        self.budget.enter()?;
        let mut map = CheckedMap {
            map,
            schema: self.schema,
            checks: self.checks,
            budget: self.budget,
            seen: Seen::default(),
            value_node: None,
        };
        let value = self.inner.visit_map(&mut map)?;
        self.budget.leave();
        // Complete: serde_json refuses a map its visitor left unfinished.
        map.seen.complete(self.checks)?;
        Ok(value)
    }
}

/// A seed whose value must match `node` (anything when `None`).
struct CheckedSeed<'s, S> {
    seed: S,
    schema: &'s QuickSchema,
    node: Option<usize>,
    budget: &'s Budget,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for CheckedSeed<'_, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(Checked {
            de,
            schema: self.schema,
            node: self.node,
            budget: self.budget,
        })
    }
}

/// An array's items, each checked against `items` (anything when `None`), and counted.
struct CheckedSeq<'s, A> {
    seq: A,
    schema: &'s QuickSchema,
    items: Option<usize>,
    budget: &'s Budget,
    count: u64,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for CheckedSeq<'_, A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let element = self.seq.next_element_seed(CheckedSeed {
            seed,
            schema: self.schema,
            node: self.items,
            budget: self.budget,
        })?;
        if element.is_some() {
            self.budget.item()?;
            self.count += 1;
        }
        Ok(element)
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

/// An object's entries: each key recorded (duplicates are "not sure") and counted, each value
/// checked against its property's node, `additionalProperties`, or nothing.
struct CheckedMap<'s, 'de, A> {
    map: A,
    schema: &'s QuickSchema,
    checks: Option<&'s Checks>,
    budget: &'s Budget,
    seen: Seen<'de>,
    /// The node of the value after the key just read.
    value_node: Option<usize>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for CheckedMap<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let mut node = Err(());
        let key = self.map.next_key_seed(KeySeed {
            seed,
            checks: self.checks,
            seen: &mut self.seen,
            node: &mut node,
        })?;
        if key.is_some() {
            self.budget.item()?;
            // A key read without a string visit (a number parsed from it) was never recorded.
            self.value_node = node.map_err(|()| unsure::<A::Error>())?;
        }
        Ok(key)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, A::Error> {
        self.map.next_value_seed(CheckedSeed {
            seed,
            schema: self.schema,
            node: self.value_node.take(),
            budget: self.budget,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A key's seed: the key's text is recorded in `seen` on its way to the type's visitor, and
/// `node` set to what its value must match.
struct KeySeed<'a, 's, 'de, S> {
    seed: S,
    checks: Option<&'s Checks>,
    seen: &'a mut Seen<'de>,
    node: &'a mut Result<Option<usize>, ()>,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for KeySeed<'_, '_, 'de, S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed.deserialize(KeyDeserializer {
            de,
            key: KeyRecord {
                checks: self.checks,
                seen: self.seen,
                node: self.node,
            },
        })
    }
}

/// Where a key's text is recorded.
struct KeyRecord<'a, 's, 'de> {
    checks: Option<&'s Checks>,
    seen: &'a mut Seen<'de>,
    node: &'a mut Result<Option<usize>, ()>,
}

impl<'de> KeyRecord<'_, '_, 'de> {
    fn record<E: de::Error>(
        self,
        key: &str,
        owned: impl FnOnce() -> Cow<'de, str>,
    ) -> Result<(), E> {
        let declared = self.checks.and_then(|c| c.declared(key));
        *self.node = Ok(self.seen.record(self.checks, declared, owned)?);
        Ok(())
    }
}

struct KeyDeserializer<'a, 's, 'de, D> {
    de: D,
    key: KeyRecord<'a, 's, 'de>,
}

/// Each method: the inner method with a [`KeyVisitor`].
macro_rules! key_methods {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method($($arg,)* KeyVisitor { inner: visitor, key: self.key })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDeserializer<'_, '_, 'de, D> {
    type Error = D::Error;

    for_each_forwarded_method!(
        key_methods,
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
        deserialize_ignored_any()
    );

    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

/// The key type's visitor, handed the key once it is recorded. Only string visits record it;
/// any other visit is refused by the default methods ("not sure").
struct KeyVisitor<'a, 's, 'de, V> {
    inner: V,
    key: KeyRecord<'a, 's, 'de>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<'_, '_, 'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        self.key.record(v, || Cow::Owned(v.to_owned()))?;
        self.inner.visit_str(v)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.key.record(v, || Cow::Borrowed(v))?;
        self.inner.visit_borrowed_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        self.key.record(&v, || Cow::Owned(v.clone()))?;
        self.inner.visit_string(v)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::{json, Value};

    use super::QuickSchema;
    use crate::schema::generator::{schema_fn, standalone};

    /// For each body: whenever the one-walk check gives a `T`, `jsonschema` accepts the body and
    /// `serde_json` reads the same `T` from it. `sure` lists bodies it must accept.
    fn agrees<T>(schema: &Value, sure: &[&str], others: &[&str])
    where
        T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let quick =
            QuickSchema::compile(schema).unwrap_or_else(|| panic!("a quick check for {schema:#}"));
        assert!(
            !quick.has_string_enums,
            "these tests are about the one walk"
        );
        let full = crate::schema::compile(schema.clone(), "body").expect("the schema compiles");
        for body in sure {
            assert!(
                quick.deserialize::<T>(body.as_bytes(), 64, 1000).is_some(),
                "one walk refused {body}"
            );
        }
        for body in sure.iter().chain(others) {
            if let Some(read) = quick.deserialize::<T>(body.as_bytes(), 64, 1000) {
                let value: Value = serde_json::from_str(body).expect("accepted text is JSON");
                assert!(full.is_valid(&value), "{body} accepted but invalid");
                let plain: T = serde_json::from_str(body).expect("serde_json reads it too");
                assert_eq!(read, plain, "{body} read differently");
            }
        }
    }

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    #[serde(rename_all = "camelCase")]
    struct Order {
        item_name: String,
        #[schemars(range(min = 1, max = 5))]
        quantity: u32,
        #[schemars(length(min = 1))]
        note: Option<String>,
        tags: Vec<String>,
        #[serde(default)]
        gift: bool,
        #[serde(default)]
        addresses: Vec<Address>,
        extras: BTreeMap<String, f64>,
    }

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Address {
        #[schemars(length(max = 4))]
        city: String,
        lines: Vec<Line>,
    }

    #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
    struct Line(String);

    #[test]
    fn derived_types_agree_with_jsonschema_and_serde() {
        let schema = standalone(schema_fn::<Order>());
        agrees::<Order>(
            &schema,
            &[
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{}}"#,
                r#"{"itemName":"L\u00e9","quantity":5,"note":"n","tags":["a","b"],"gift":true,
                    "addresses":[{"city":"Oslo","lines":["1","2"]}],"extras":{"x":1,"y":2.5}}"#,
                r#"{"unknown":{"deep":[1,{"a":null}]},"itemName":"L","quantity":2,"tags":[],
                    "extras":{},"note":null}"#,
            ],
            &[
                r#"{"itemName":"Lamp","quantity":0,"tags":[],"extras":{}}"#,
                r#"{"itemName":"Lamp","quantity":6,"tags":[],"extras":{}}"#,
                r#"{"itemName":"Lamp","quantity":1.0,"tags":[],"extras":{}}"#,
                r#"{"itemName":"Lamp","quantity":-1,"tags":[],"extras":{}}"#,
                r#"{"itemName":"Lamp","quantity":1,"note":"","tags":[],"extras":{}}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[1],"extras":{}}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{"x":"1"}}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{"x":1,"x":2}}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{},"gift":null}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{},
                    "addresses":[{"city":"Bergen","lines":[]}]}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{},
                    "addresses":[{"city":"Oslo","lines":[1]}]}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{},"itemName":"M"}"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[]}"#,
                r#"{"quantity":1,"tags":[],"extras":{}}"#,
                r#"["Lamp",1,null,[],false,[],{}]"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{}} x"#,
                r#"{"itemName":"Lamp","quantity":1,"tags":[],"extras":{}"#,
                r#"null"#,
            ],
        );
    }

    #[test]
    fn values_read_as_json_values_agree_too() {
        let schema = json!({
            "type": "object",
            "properties": {
                "n": { "type": "integer", "maximum": 3 },
                "list": { "type": "array", "items": { "type": "string" }, "minItems": 1 }
            },
            "required": ["n"],
            "additionalProperties": { "type": ["number", "null"] }
        });
        agrees::<Value>(
            &schema,
            &[r#"{"n":3}"#, r#"{"n":-1,"list":["a"],"x":1.5,"y":null}"#],
            &[
                r#"{"n":4}"#,
                r#"{"n":1,"list":[]}"#,
                r#"{"n":1,"list":[2]}"#,
                r#"{"n":1,"x":"no"}"#,
                r#"{"n":1,"x":1,"x":2}"#,
                r#"{"list":["a"]}"#,
                r#"{"n":1.5}"#,
            ],
        );
    }

    /// A value the type skips (an unknown field) is checked against its node all the same.
    #[test]
    fn skipped_values_are_still_checked() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Only {
            a: u8,
        }
        let schema = json!({
            "type": "object",
            "properties": { "a": { "type": "integer" } },
            "additionalProperties": { "type": "array", "items": { "type": "boolean" } }
        });
        agrees::<Only>(
            &schema,
            &[r#"{"a":1,"b":[true,false]}"#],
            &[r#"{"a":1,"b":[1]}"#, r#"{"a":1,"b":{}}"#],
        );
    }

    #[test]
    fn enums_are_checked_before_they_are_read() {
        #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
        #[serde(rename_all = "lowercase")]
        enum Colour {
            Red,
            Blue,
        }
        #[derive(Debug, PartialEq, Deserialize, JsonSchema)]
        struct Paint {
            colour: Colour,
        }
        let schema = standalone(schema_fn::<Paint>());
        let quick = QuickSchema::compile(&schema).expect("a quick check for this schema");
        assert!(quick.has_string_enums);
        assert_eq!(
            quick.deserialize::<Paint>(br#"{"colour":"red"}"#, 64, 1000),
            Some(Paint {
                colour: Colour::Red
            })
        );
        assert_eq!(
            quick.deserialize::<Paint>(br#"{"colour":{"red":null}}"#, 64, 1000),
            None
        );
        assert_eq!(
            quick.deserialize::<Paint>(br#"{"colour":"green"}"#, 64, 1000),
            None
        );
    }

    /// Nesting and items are counted everywhere, also where the schema says nothing and in
    /// values the type skips, and stop the walk at the limits `check_text` applies.
    #[test]
    fn nesting_and_items_stop_at_the_limits_of_the_text_check() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Open {
            #[serde(default)]
            a: Value,
        }
        let schema = json!({ "type": "object", "properties": { "a": {} } });
        let quick = QuickSchema::compile(&schema).expect("a quick check for this schema");
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        let text_passes = |body: &str, depth, items| {
            crate::schema::check_text(body.as_bytes(), depth, items).is_ok()
        };
        for body in [
            format!(r#"{{"a":{}}}"#, nested(3)),
            format!(r#"{{"b":{}}}"#, nested(3)),
            r#"{"a":[1,2,3],"b":{"c":[4,5]}}"#.to_owned(),
            r#"{"a":{"x":1,"y":{}}}"#.to_owned(),
        ] {
            // The tightest limits the text check lets the body through.
            let depth = (0..)
                .find(|&d| text_passes(&body, d, usize::MAX))
                .unwrap_or(0);
            let items = (0..)
                .find(|&i| text_passes(&body, usize::MAX, i))
                .unwrap_or(0);
            assert!(depth > 1 && items > 1, "{body}");
            let read = |depth, items| quick.deserialize::<Open>(body.as_bytes(), depth, items);
            assert!(
                read(depth, items).is_some(),
                "{body}: depth {depth}, {items} items"
            );
            assert!(
                read(depth - 1, usize::MAX).is_none(),
                "{body} past depth {depth}"
            );
            assert!(
                read(usize::MAX, items - 1).is_none(),
                "{body} past {items} items"
            );
        }
    }
}
