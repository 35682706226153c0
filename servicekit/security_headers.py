"""Talisman with its headers computed once per view instead of on every response.

flask-talisman re-reads a view's options and re-parses its policies for every response (three option
look-ups and a CSP parse per request). The headers only depend on the view and the app's settings, so
here they are built once per endpoint, by Talisman's own code, and copied onto each response. A view
whose CSP carries a nonce, and HSTS (sent only over HTTPS), are still decided per request.
"""
import flask
from flask_talisman import Talisman
from werkzeug.datastructures import Headers


class PrecomputedTalisman(Talisman):
    """Same headers as Talisman, computed once per (app, endpoint)."""

    def init_app(self, app, **kwargs):
        self._headers_by_endpoint = {}
        self._options_by_endpoint = {}
        super().init_app(app, **kwargs)

    def _get_local_options(self):
        key = (id(flask.current_app._get_current_object()), flask.request.endpoint)
        options = self._options_by_endpoint.get(key)
        if options is None:
            options = self._options_by_endpoint[key] = super()._get_local_options()
        return options

    def _static_headers(self, options):
        """The view's headers but HSTS, or None when they vary per request (a CSP nonce)."""
        if options["content_security_policy"] and options["content_security_policy_nonce_in"]:
            return None
        key = (id(flask.current_app._get_current_object()), flask.request.endpoint)
        headers = self._headers_by_endpoint.get(key)
        if headers is None:
            built = Headers()
            self._set_feature_policy_headers(built, options)
            self._set_permissions_policy_headers(built, options)
            self._set_document_policy_headers(built, options)
            self._set_frame_options_headers(built, options)
            self._set_content_security_policy_headers(built, options)
            self._set_referrer_policy_headers(built)
            headers = self._headers_by_endpoint[key] = list(built.items())
        return headers

    def _set_response_headers(self, response):
        options = self._get_local_options()
        headers = self._static_headers(options)
        if headers is None:
            return super()._set_response_headers(response)
        for name, value in headers:
            response.headers[name] = value
        if self.strict_transport_security:
            self._set_hsts_headers(response.headers)
        return response
