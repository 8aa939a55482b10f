//! Typed values written as JSON with finite numbers only. JSON has no infinity or NaN, and
//! serde_json writes them as `null`: a tool whose output overflows (`1.7e308 * 9.0`) would
//! answer `null` where its schema says number. [`to_value`] refuses such a value instead,
//! naming where the number is, so the caller reports a failure rather than a wrong answer.

use std::fmt;

use serde::{ser, Serialize};
use serde_json::Value;

/// `value` as JSON, or an error naming the first infinite or NaN number in it and where it is
/// (`` `readings.2.celsius` is inf ``).
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, serde_json::Error> {
    let mut path = Vec::new();
    value
        .serialize(Finder { path: &mut path })
        .map_err(|Refusal(message)| <serde_json::Error as ser::Error>::custom(message))?;
    serde_json::to_value(value)
}

/// Why the value cannot be written: a non-finite number, or the value's own serialization error.
#[derive(Debug)]
struct Refusal(String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

impl ser::Error for Refusal {
    fn custom<M: fmt::Display>(message: M) -> Self {
        Refusal(message.to_string())
    }
}

/// A serializer that writes nothing: it walks the value as serde_json would, keeping the path
/// (field names, map keys, indexes), and stops at the first non-finite number.
struct Finder<'p> {
    path: &'p mut Vec<String>,
}

impl<'p> Finder<'p> {
    fn number(self, number: f64) -> Result<(), Refusal> {
        if number.is_finite() {
            return Ok(());
        }
        let place = if self.path.is_empty() {
            "the value".to_owned()
        } else {
            format!("`{}`", self.path.join("."))
        };
        Err(Refusal(format!(
            "{place} is {number}, which is not a finite number and has no JSON form"
        )))
    }

    fn compound(self, variant: Option<&'static str>) -> Compound<'p> {
        let pushed = variant.is_some();
        if let Some(variant) = variant {
            self.path.push(variant.to_owned());
        }
        Compound {
            path: self.path,
            index: 0,
            key: None,
            pushed,
        }
    }
}

/// Arrays, objects and enum variants: each element is checked under its index or name.
struct Compound<'p> {
    path: &'p mut Vec<String>,
    index: usize,
    key: Option<String>,
    /// Whether an enum variant's name was pushed on the path (popped at the end).
    pushed: bool,
}

impl Compound<'_> {
    fn under<T: Serialize + ?Sized>(&mut self, segment: String, value: &T) -> Result<(), Refusal> {
        self.path.push(segment);
        let checked = value.serialize(Finder {
            path: &mut *self.path,
        });
        self.path.pop();
        checked
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        let index = self.index;
        self.index += 1;
        self.under(index.to_string(), value)
    }

    fn finish(self) -> Result<(), Refusal> {
        if self.pushed {
            self.path.pop();
        }
        Ok(())
    }
}

macro_rules! accept {
    ($($method:ident($type:ty)),* $(,)?) => {
        $(fn $method(self, _: $type) -> Result<(), Refusal> { Ok(()) })*
    };
}

impl<'p> ser::Serializer for Finder<'p> {
    type Ok = ();
    type Error = Refusal;
    type SerializeSeq = Compound<'p>;
    type SerializeTuple = Compound<'p>;
    type SerializeTupleStruct = Compound<'p>;
    type SerializeTupleVariant = Compound<'p>;
    type SerializeMap = Compound<'p>;
    type SerializeStruct = Compound<'p>;
    type SerializeStructVariant = Compound<'p>;

    accept!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_f32(self, v: f32) -> Result<(), Refusal> {
        self.number(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Refusal> {
        self.number(v)
    }

    fn serialize_none(self) -> Result<(), Refusal> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Refusal> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Refusal> {
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Refusal> {
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Refusal> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Refusal> {
        let mut compound = self.compound(None);
        compound.under(variant.to_owned(), value)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(None))
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(None))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(None))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(Some(variant)))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(None))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(None))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'p>, Refusal> {
        Ok(self.compound(Some(variant)))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        self.element(value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        self.element(value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        self.element(value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        self.element(value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Refusal> {
        // Keys are strings (or numbers written as strings) in JSON; the text only names a place.
        self.key = Some(match serde_json::to_value(key) {
            Ok(Value::String(text)) => text,
            Ok(other) => other.to_string(),
            Err(error) => return Err(Refusal(error.to_string())),
        });
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Refusal> {
        let key = self.key.take().unwrap_or_default();
        self.under(key, value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Refusal> {
        self.under(name.to_owned(), value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Refusal;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Refusal> {
        self.under(name.to_owned(), value)
    }

    fn end(self) -> Result<(), Refusal> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;

    #[derive(Serialize)]
    struct Reading {
        celsius: f64,
        label: Option<String>,
    }

    #[derive(Serialize)]
    enum Shape {
        Circle { radius: f32 },
        Pair(f64, f64),
    }

    fn refusal<T: Serialize>(value: &T) -> String {
        to_value(value).expect_err("refused").to_string()
    }

    #[test]
    fn finite_values_are_written_as_serde_json_writes_them() {
        let value = Reading {
            celsius: 21.5,
            label: None,
        };
        assert_eq!(
            to_value(&value).unwrap(),
            json!({ "celsius": 21.5, "label": null })
        );
        assert_eq!(to_value(&vec![1.0, -0.0]).unwrap(), json!([1.0, -0.0]));
    }

    #[test]
    fn a_non_finite_number_is_refused_naming_where_it_is() {
        let readings = vec![
            Reading {
                celsius: 1.0,
                label: None,
            },
            Reading {
                celsius: f64::INFINITY,
                label: Some("hot".into()),
            },
        ];
        assert_eq!(
            refusal(&readings),
            "`1.celsius` is inf, which is not a finite number and has no JSON form"
        );
        assert!(refusal(&f64::NAN).starts_with("the value is NaN"));
        let mut map = BTreeMap::new();
        map.insert("low", f64::NEG_INFINITY);
        assert!(refusal(&map).starts_with("`low` is -inf"));
        assert!(refusal(&Shape::Circle {
            radius: f32::INFINITY
        })
        .starts_with("`Circle.radius` is inf"));
        assert!(refusal(&Shape::Pair(0.0, f64::NAN)).starts_with("`Pair.1` is NaN"));
        assert!(refusal(&Some(vec![(1, f64::INFINITY)])).starts_with("`0.1` is inf"));
    }
}
