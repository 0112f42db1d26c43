// Input:
//
// #[derive(DbEnum)]
// #[db_enum(name = "user_status")]
// pub enum Status {
//     #[db_enum(rename = "active")]
//     Active,
//     Suspended,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::DbEnum for Status {
    const TYPE_NAME: &'static str = "user_status";
    const VARIANTS: &'static [&'static str] = &["active", "Suspended"];
    const NATIVE: bool = false;
    fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "Suspended",
        }
    }
    fn from_db_str(s: &str) -> ::core::option::Option<Self> {
        match s {
            "active" => ::core::option::Option::Some(Self::Active),
            "Suspended" => ::core::option::Option::Some(Self::Suspended),
            _ => ::core::option::Option::None,
        }
    }
}
impl ::oxalchemy::orm::__private::ToValue for Status {
    fn to_value(&self) -> ::oxalchemy::orm::__private::Value {
        ::oxalchemy::orm::__private::Value::Text(
            ::std::string::ToString::to_string(::oxalchemy::orm::DbEnum::as_str(self)),
        )
    }
}
impl ::core::convert::From<Status> for ::oxalchemy::orm::__private::Value {
    fn from(v: Status) -> ::oxalchemy::orm::__private::Value {
        ::oxalchemy::orm::__private::ToValue::to_value(&v)
    }
}
impl ::oxalchemy::orm::__private::FromSql for Status {
    fn from_text(
        text: ::std::string::String,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::DecodeError> {
        <Self as ::oxalchemy::orm::DbEnum>::from_db_str(&text)
            .ok_or_else(|| {
                ::oxalchemy::orm::__private::DecodeError::new(
                    ::std::format!("`{}` is not a variant of {}", text, "Status"),
                )
            })
    }
}
impl ::oxalchemy::orm::SqlField for Status {
    fn sql_type(
        _length: ::core::option::Option<u32>,
    ) -> ::oxalchemy::orm::__private::SqlType {
        <Self as ::oxalchemy::orm::DbEnum>::enum_sql_type()
    }
}
impl ::oxalchemy::orm::Operand<Status> for Status {
    fn into_operand(self) -> ::oxalchemy::orm::__private::Expr {
        ::oxalchemy::orm::__private::Expr::Bind(
            ::oxalchemy::orm::__private::ToValue::to_value(&self),
        )
    }
}
impl ::oxalchemy::orm::Operand<::core::option::Option<Status>> for Status {
    fn into_operand(self) -> ::oxalchemy::orm::__private::Expr {
        ::oxalchemy::orm::__private::Expr::Bind(
            ::oxalchemy::orm::__private::ToValue::to_value(&self),
        )
    }
}
