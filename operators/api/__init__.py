"""The businesses' integration API, versioned under /api/v1/."""
