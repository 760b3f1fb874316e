import unicodedata

from odoo import api, models
from odoo.tools import escape_psql

from ..lib import normalize

# The fields of a delivery address that tell two addresses apart; the phone
# is not one of them (the same place with a new phone is the same place).
ADDRESS_KEY_FIELDS = ("name", "street", "street2", "city", "zip")


def _key_text(value):
    """Text compared without case, accents' encoding or spacing
    differences."""
    return " ".join(unicodedata.normalize("NFC", value or "").casefold().split())


class OmsIntegrationOrderPartner(models.AbstractModel):
    """The people of an order: the customer, its delivery address and the
    salesperson. Part of the order builder; it writes nothing but customers
    and delivery contacts, and only once every mapping resolved."""

    _name = "oms.integration.order.partner"
    _description = "Integration Order Builder: Customers and Addresses"

    # === CUSTOMER === #

    @api.model
    def _oms_resolve_partner(self, source, customer, missing, advice, preview=False):
        """The customer of the order: its mapping, else a unique match (the
        policy permitting), else a new customer (``match_create``).

        Two or more matching customers never make a third one: the code is
        left unmapped and ``advice`` names the candidates, so that mapping
        one of them resolves the order. ``preview``: nothing recorded, and
        the customer that would be created is a new, unsaved record."""
        Mapping = self.env["oms.integration.mapping"]
        partner = Mapping._oms_resolve(
            source,
            "partner",
            customer.external_id,
            customer.name,
            record_unknown=not preview,
        )
        if partner:
            return partner
        if source.partner_policy in ("match", "match_create"):
            candidates = self._oms_match_partner(source, customer)
            if len(candidates) > 1:
                missing.append(("partner", customer.external_id, customer.name))
                advice.append(
                    self.env["oms.integration.hints"]._oms_hint_text(
                        "customer_ambiguous",
                        code=customer.external_id,
                        name=customer.name,
                        candidates=", ".join(
                            f"{p.display_name} (#{p.id})" for p in candidates
                        ),
                    )
                )
                return None
            partner = candidates
            if not partner and source.partner_policy == "match_create":
                partner = self._oms_create_partner(source, customer, preview=preview)
            if partner and preview:
                return partner
            if partner:
                Mapping._oms_record_mapping(
                    source, "partner", customer.external_id, partner, customer.name
                )
                return partner
        missing.append(("partner", customer.external_id, customer.name))
        return None

    @api.model
    def _oms_country(self, code, default=None):
        if not code:
            return default or self.env["res.country"]
        return self.env["res.country"].search([("code", "=", code)], limit=1)

    @api.model
    def _oms_match_partner(self, source, customer):
        """The customers (commercial entities) whose VAT, phone or e-mail is
        exactly the provider's, compared on Odoo's normalized values: VAT
        without case, ``phone_sanitized`` (the number in international form,
        read with the customer's country, else the company's) and
        ``email_normalized``. The first value that finds anyone decides;
        more than one result is ambiguous and returned as such."""
        Partner = self.env["res.partner"].with_company(source.company_id)
        domain = [("company_id", "in", (False, source.company_id.id))]
        country = self._oms_country(
            customer.country_code, default=source.company_id.country_id
        )
        phone = customer.phone and Partner._phone_format(
            number=customer.phone, country=country, force_format="E164"
        )
        vat = (customer.vat or "").strip()
        criteria = (
            # escape_psql: a provider's "%" or "_" is a character, never a
            # wildcard, so "%" matches nobody rather than anybody.
            ("vat", "=ilike", escape_psql(vat) if vat else ""),
            ("phone_sanitized", "=", phone or ""),
            ("email_normalized", "=", normalize.normalize_email(customer.email)),
        )
        for field_name, operator, value in criteria:
            if not value:
                continue
            found = Partner.search(domain + [(field_name, operator, value)], limit=10)
            partners = found.commercial_partner_id
            if partners:
                return partners
        return Partner.browse()

    @api.model
    def _oms_create_partner(self, source, customer, preview=False):
        """A new customer for the provider's ``customer``; ``preview``: not
        saved (``new``)."""
        vals = dict(
            self._oms_address_vals(customer),
            company_id=source.company_id.id,
            customer_rank=1,
            ref=customer.external_id,
            email=customer.email or False,
            vat=customer.vat or False,
        )
        Partner = self.env["res.partner"]
        return Partner.new(vals) if preview else Partner.create(vals)

    @api.model
    def _oms_address_vals(self, address):
        country = self._oms_country(address.country_code)
        state = self.env["res.country.state"]
        if address.state and country:
            state = state.search(
                [("country_id", "=", country.id), ("code", "=ilike", address.state)],
                limit=1,
            )
        return {
            "name": address.name or False,
            "phone": address.phone or False,
            "street": address.street or False,
            "street2": address.street2 or False,
            "city": address.city or False,
            "zip": address.zip or False,
            "country_id": country.id or False,
            "state_id": state.id or False,
        }

    # === DELIVERY ADDRESS === #

    @api.model
    def _oms_address_key(self, vals):
        return tuple(_key_text(vals.get(f) or "") for f in ADDRESS_KEY_FIELDS) + (
            vals.get("country_id") or False,
        )

    @api.model
    def _oms_partner_key(self, partner):
        vals = {f: partner[f] for f in ADDRESS_KEY_FIELDS}
        vals["country_id"] = partner.country_id.id
        return self._oms_address_key(vals)

    @api.model
    def _oms_delivery_address(self, source, partner, address):
        """The delivery contact of ``partner`` for the provider's shipping
        ``address``: the one its address id was met with before (updated when
        the provider changed it), else the customer or one of its contacts at
        the same address, else a new delivery contact. ``None`` without a
        shipping address (Odoo then delivers to the customer's address)."""
        if not address or not partner:
            return None
        Mapping = self.env["oms.integration.mapping"].sudo()
        vals = self._oms_address_vals(address)
        if not vals["name"]:
            vals["name"] = partner.name
        commercial = partner.commercial_partner_id
        mapping = Mapping.browse()
        if address.external_id:
            mapping = Mapping.search(
                [
                    ("source_id", "=", source.id),
                    ("kind", "=", "address"),
                    ("external_code", "=", address.external_id),
                ],
                limit=1,
            )
            contact = mapping.partner_id if mapping.state == "mapped" else None
            if contact and contact.commercial_partner_id == commercial:
                changed = {
                    name: value
                    for name, value in vals.items()
                    if (contact[name].id if name.endswith("_id") else contact[name])
                    != value
                    and (value or name != "name")
                }
                if changed and contact != commercial:
                    contact.write(changed)
                return contact
        key = self._oms_address_key(vals)
        contact = (partner | partner.child_ids).filtered(
            lambda p: p.active and self._oms_partner_key(p) == key
        )[:1]
        if not contact:
            contact = self.env["res.partner"].create(
                dict(vals, parent_id=partner.id, type="delivery")
            )
        if address.external_id:
            if mapping:
                mapping.write({"partner_id": contact.id, "state": "mapped"})
            else:
                Mapping._oms_record_mapping(
                    source, "address", address.external_id, contact, vals["name"]
                )
        return contact

    # === SALESPERSON === #

    @api.model
    def _oms_salesperson(self, source, mapped_user, partner):
        """The provider's salesperson as mapped, else the customer's, else
        the source's default, else its sales team's leader; an empty user
        (never OdooBot) when none is set."""
        for user in (
            mapped_user,
            partner and partner.commercial_partner_id.user_id,
            partner and partner.user_id,
            source.user_id,
            source.team_id.user_id,
        ):
            if user and user.active and not user.share:
                return user
        return self.env["res.users"]
