"""Wallet offers (docs/wallets.md): an earner sends a badge to a wallet from "My badges".

``services`` (offers, the pre-authorized code, nonces, the credential request, the VC-API exchange), ``holder``
(the wallet's key proof, the badge bound to the holder's DID), ``api`` (what a wallet calls: OID4VCI 1.0 metadata,
token, nonce and credential endpoints, the offer by reference, the Learner Credential Wallet's exchange), ``views``
(the "Add to wallet" page with its QR codes), ``models``.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    from badges.oid4vci import api, models, services, views  # noqa: F401 (tables)
    from core import privacy

    privacy.register_exporter("wallet_offers", services.export_personal_data)
    privacy.register_eraser("wallet_offers", services.erase_personal_data)
    api.init_app(app)
    views.init_app(app)
