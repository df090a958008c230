"""The panel's services and read models (sign-in, the log, maintenance); no Flask."""
