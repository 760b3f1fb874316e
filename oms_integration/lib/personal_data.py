"""Personal data in stored payloads, blanked once a source's retention ends.

What is personal: the names, phones, e-mails, addresses and tax ids of
customers and delivery contacts. What is kept: everything else (order,
customer and address ids, product codes and names, quantities, prices,
amounts, dates, statuses) and the payload's structure, so that an event
still tells what was ordered, when and for how much.

Keys are matched without regard to case, in two forms:

- ``"phone"``: the value of key ``phone`` in any object, at any depth;
- ``"customer.name"``: the value of key ``name`` only in an object held by
  key ``customer`` (or in the objects of a list held by it), so that the
  customer's name goes while the order's and the products' names stay.

A personal value is replaced by ``REMOVED`` (text, whatever its type was:
a phone sent as a number is removed too); an empty value, ``null`` or a
boolean is left as it is (it holds nothing). A personal key holding an
object or a list has every value inside it replaced, its keys kept.

A text body (a stored payload, an HTTP exchange's body) is blanked through
its JSON. Text that is not JSON (a body cut to its stored length, an HTML
error page) cannot be told apart: it is replaced whole by ``REMOVED``.
"""

import json

# What replaces a personal value: visibly removed, not an empty value the
# provider could have sent.
REMOVED = "[removed]"

# The canonical order payload's personal keys (the inbound webhook
# contract's "compatible" format). Ids, country and state codes, product
# names and SKUs are not personal; salesperson names belong to the company's
# staff, not to its customers. Names and tax ids only in the customer and
# the delivery address: other objects' ``name`` (the order's, a product's)
# and ``vat`` (a line's tax rate, in some providers' formats) are not.
CANONICAL_KEYS = frozenset(
    {
        "customer.name",
        "shipping_address.name",
        "customer.vat",
        "shipping_address.vat",
        "phone",
        "email",
        "street",
        "street2",
        "city",
        "zip",
    }
)


def blank_personal(data, keys, parent=None):
    """A copy of the JSON value ``data`` (dicts, lists, scalars) with the
    values of the personal ``keys`` replaced by ``REMOVED``; the input is
    not modified. ``parent``: the key holding ``data`` (for the
    ``"parent.key"`` form)."""
    keys = _lowered(keys)
    return _walk(data, keys, parent.lower() if isinstance(parent, str) else None)


def blank_personal_text(text, keys):
    """The text body ``text`` with its personal values blanked: the JSON
    dumped again (UTF-8 kept, key order kept) when it parses, else
    ``REMOVED`` in its place. Empty text stays empty; text that holds no
    personal value is returned unchanged (as it was written)."""
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return REMOVED
    if isinstance(data, str):
        return REMOVED
    blanked = blank_personal(data, keys)
    if blanked == data:
        return text
    return json.dumps(blanked, ensure_ascii=False)


def holds_personal(text, keys):
    """Whether ``blank_personal_text`` would change ``text``."""
    return blank_personal_text(text, keys) != text


def _lowered(keys):
    if isinstance(keys, frozenset) and all(key == key.lower() for key in keys):
        return keys
    return frozenset(key.lower() for key in keys)


def _walk(data, keys, parent):
    if isinstance(data, dict):
        blanked = {}
        for key, value in data.items():
            name = str(key).lower()
            if name in keys or (parent and f"{parent}.{name}" in keys):
                blanked[key] = _remove(value)
            else:
                blanked[key] = _walk(value, keys, name)
        return blanked
    if isinstance(data, list):
        # The objects of a list belong to the key holding the list.
        return [_walk(item, keys, parent) for item in data]
    return data


def _remove(value):
    if isinstance(value, dict):
        return {key: _remove(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_remove(item) for item in value]
    if value is None or value == "" or isinstance(value, bool):
        return value
    return REMOVED
