# image-build/: compose (packages -> ostree commit) and disk images.
