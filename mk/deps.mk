# make deps: install every Debian package listed in mk/packages/*.txt.
# Idempotent and silent when nothing is missing.
.PHONY: deps
deps:
	$(Q)sh mk/deps.sh mk/packages/*.txt
