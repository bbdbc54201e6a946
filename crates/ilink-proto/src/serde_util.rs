//! Serde glue shared by the wire types.

/// Implements `Serialize`/`Deserialize` for an enum with `as_str()` and
/// `From<&str>` whose unknown strings are kept in a variant.
macro_rules! string_enum_serde {
    ($ty:ty) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from(&*s))
            }
        }
    };
}

pub(crate) use string_enum_serde;
