"""One module per remote function, each declaring itself with `@declare` (fraud_functions.declarations).

`declarations.declared()` imports every module here, so a new function is a new
module and nothing else lists it.
"""
