// Input:
//
// #[derive(DbType)]
// pub struct Email(String);
//
// Expansion (`UPDATE_EXPAND=1 cargo test -p oxalchemy-macros` rewrites it):

impl ::oxalchemy::orm::__private::ToValue for Email {
    #[inline]
    fn to_value(&self) -> ::oxalchemy::orm::__private::Value {
        ::oxalchemy::orm::__private::ToValue::to_value(&self.0)
    }
}
impl ::core::convert::From<Email> for ::oxalchemy::orm::__private::Value {
    #[inline]
    fn from(v: Email) -> ::oxalchemy::orm::__private::Value {
        ::oxalchemy::orm::__private::ToValue::to_value(&v.0)
    }
}
::oxalchemy::orm::__private::__impl_transparent_from_sql!(
    Email, String, | inner | Email(inner)
);
impl ::oxalchemy::orm::SqlField for Email {
    fn sql_type(
        length: ::core::option::Option<u32>,
    ) -> ::oxalchemy::orm::__private::SqlType {
        <String as ::oxalchemy::orm::SqlField>::sql_type(length)
    }
    const NULLABLE: bool = <String as ::oxalchemy::orm::SqlField>::NULLABLE;
}
impl ::oxalchemy::orm::__private::ArrayElement for Email {}
impl ::oxalchemy::orm::Operand<Email> for Email {
    fn into_operand(self) -> ::oxalchemy::orm::__private::Expr {
        ::oxalchemy::orm::__private::Expr::Bind(
            ::oxalchemy::orm::__private::ToValue::to_value(&self),
        )
    }
}
impl ::oxalchemy::orm::Operand<::core::option::Option<Email>> for Email {
    fn into_operand(self) -> ::oxalchemy::orm::__private::Expr {
        ::oxalchemy::orm::__private::Expr::Bind(
            ::oxalchemy::orm::__private::ToValue::to_value(&self),
        )
    }
}
impl ::oxalchemy::orm::TextType for Email {}
