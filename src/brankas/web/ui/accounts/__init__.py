"""The accounts pages: first run, signing in and out, the password again, the authenticator
app, users."""
