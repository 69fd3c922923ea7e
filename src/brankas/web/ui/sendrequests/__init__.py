"""The pages of requests to send a secret message (permintaan pengiriman berita)."""
