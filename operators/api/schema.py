from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Publishes ApiKeyAuthentication as HTTP bearer authentication."""

    target_class = "operators.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of your business (made in the admin): `Authorization: Bearer vty_…`.",
        }
