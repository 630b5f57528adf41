import base64
import hashlib
import re

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView

from kyc.middleware import content_security_policy

_STYLE_BLOCK = re.compile(rb"<style[^>]*>(.*?)</style>", re.S)


class SwaggerDocsView(SpectacularSwaggerSplitView):
    """Swagger UI under the site's CSP. Its start-up script is a separate
    same-origin file (split view) and its assets come from the sidecar's
    static files. The page template carries one small inline <style>; this
    page's CSP allows exactly that block by its hash, nothing else inline.
    (Swagger UI's own runtime styles go through the CSSOM, which CSP allows.)"""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if "script" not in request.GET:
            response.add_post_render_callback(_allow_own_style_blocks)
        return response


def _allow_own_style_blocks(response):
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(block).digest()).decode() + "'"
        for block in _STYLE_BLOCK.findall(response.content)
    ]
    if hashes:
        response["Content-Security-Policy"] = content_security_policy().replace(
            "style-src 'self'", "style-src 'self' " + " ".join(hashes), 1
        )
