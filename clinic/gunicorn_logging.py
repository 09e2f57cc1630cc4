"""gunicorn's logger with tokens redacted, named by the web command (``--logger-class``).

The access log line holds the request line and the Referer header (same-origin requests from
a patient's page carry its URL), the error log the path of a request that failed: both pass
through ``clinic.log_redaction.RedactTokens`` before any handler writes them.
"""

from __future__ import annotations

from gunicorn import glogging

from clinic.log_redaction import RedactTokens


class RedactingLogger(glogging.Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        # setup() runs again on every configuration reload: add the filter once.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactTokens) for existing in log.filters):
                log.addFilter(RedactTokens())
