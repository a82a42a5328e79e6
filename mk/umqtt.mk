# umqtt.simple / umqtt.robust for the unix port (tests, demo, bench), from
# PyPI with pinned SHA-256s: `make` leaves them in build/umqtt/umqtt/, and
# build/umqtt goes on MICROPYPATH. Included by the top-level Makefile.
UMQTT_DIR := $(BUILD)/umqtt
UMQTT_STAMP := $(UMQTT_DIR)/.fetched-simple-1.3.4-robust-1.0

$(UMQTT_STAMP):
	bash scripts/fetch-umqtt.sh $(UMQTT_DIR)

.PHONY: umqtt
umqtt: $(UMQTT_STAMP)
