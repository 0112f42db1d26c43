// Input:
//
// #[derive(DbEnum)]
// #[db_enum(native)]
// pub enum RoleKind {
//     Admin,
//     Member,
// }
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::DbEnum for RoleKind {
    const TYPE_NAME: &'static str = "role_kind";
    const VARIANTS: &'static [&'static str] = &["Admin", "Member"];
    const NATIVE: bool = true;
    fn as_str(&self) -> &'static str {
        match self {
            Self::Admin => "Admin",
            Self::Member => "Member",
        }
    }
    fn from_db_str(s: &str) -> ::core::option::Option<Self> {
        match s {
            "Admin" => ::core::option::Option::Some(Self::Admin),
            "Member" => ::core::option::Option::Some(Self::Member),
            _ => ::core::option::Option::None,
        }
    }
}
impl ::oxalchemy::orm::__private::ToValue for RoleKind {
    fn to_value(&self) -> ::oxalchemy::orm::__private::Value {
        ::oxalchemy::orm::__private::Value::Text(
            ::std::string::ToString::to_string(::oxalchemy::orm::DbEnum::as_str(self)),
        )
    }
}
impl ::core::convert::From<RoleKind> for ::oxalchemy::orm::__private::Value {
    fn from(v: RoleKind) -> ::oxalchemy::orm::__private::Value {
        ::oxalchemy::orm::__private::ToValue::to_value(&v)
    }
}
impl ::oxalchemy::orm::__private::FromSql for RoleKind {
    fn from_text(
        text: ::std::string::String,
    ) -> ::core::result::Result<Self, ::oxalchemy::orm::__private::DecodeError> {
        <Self as ::oxalchemy::orm::DbEnum>::from_db_str(&text)
            .ok_or_else(|| {
                ::oxalchemy::orm::__private::DecodeError::new(
                    ::std::format!("`{}` is not a variant of {}", text, "RoleKind"),
                )
            })
    }
}
impl ::oxalchemy::orm::SqlField for RoleKind {
    fn sql_type(
        _length: ::core::option::Option<u32>,
    ) -> ::oxalchemy::orm::__private::SqlType {
        <Self as ::oxalchemy::orm::DbEnum>::enum_sql_type()
    }
}
impl ::oxalchemy::orm::Operand<RoleKind> for RoleKind {
    fn into_operand(self) -> ::oxalchemy::orm::__private::Expr {
        ::oxalchemy::orm::__private::Expr::Bind(
            ::oxalchemy::orm::__private::ToValue::to_value(&self),
        )
    }
}
impl ::oxalchemy::orm::Operand<::core::option::Option<RoleKind>> for RoleKind {
    fn into_operand(self) -> ::oxalchemy::orm::__private::Expr {
        ::oxalchemy::orm::__private::Expr::Bind(
            ::oxalchemy::orm::__private::ToValue::to_value(&self),
        )
    }
}
