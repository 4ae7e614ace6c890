from statefun.core import Type

IntType: Type
FloatType: Type
StringType: Type
