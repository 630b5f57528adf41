from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class VerityStaticFilesStorage(ManifestStaticFilesStorage):
    """Hashed file names for cache-busting, including the `import` lines of
    the plain ES modules in static/js (no bundler rewrites them for us)."""

    support_js_module_import_aggregation = True
