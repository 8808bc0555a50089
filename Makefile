# wspush build. One Makefile, no generator. Layers are folders; each folder is a static library.
#
#   make            build everything into build/
#   make run        install missing Debian packages, build, start build/wspush on :1234 (PORT=, API=)
#   make test       build, run unit tests, short fuzz runs and end-to-end tests
#   make asan       the unit and end-to-end tests under AddressSanitizer + UBSan (build-asan/)
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make bench      microbenchmarks and the end-to-end comparison (BENCH_QUICK=1 for a short run)
#   make bench-cluster  the cluster: 100k connections over 6 nodes and Redis (bench/cluster_bench.sh)

BUILD    ?= build
CXX      ?= g++
OPT      ?= -O2
# build/ is the release build (what `make run` starts and `make bench` measures, baselines
# included): -DNDEBUG, as a distribution or CMake Release build compiles it. asserts guard
# internal invariants only (nothing a client sends), and with them on absl's inline code runs
# its debug checks, which would handicap the benchmark baselines. `make asan` builds with
# RELEASE= and so runs the unit and end-to-end tests with every assert on.
RELEASE  ?= -DNDEBUG
SANITIZE ?=
CXXFLAGS ?=
CXXFLAGS += -std=c++20 $(OPT) $(RELEASE) -g -Wall -Wextra -I. -I$(BUILD)/gen -pthread -MMD -MP $(SANITIZE)
LDFLAGS  += -pthread $(SANITIZE)
NPROC        := $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
# libFuzzer stops ~1 s past -max_total_time: 11 gives ~12 s a target, 6 targets in ~75 s.
FUZZ_SHORT   ?= 11

codec_src    := $(wildcard codec/*.cpp)
registry_src := $(wildcard registry/*.cpp)
auth_src     := $(wildcard auth/*.cpp)
engine_src   := $(wildcard engine/*.cpp)
cluster_src  := $(wildcard cluster/*.cpp)
server_src   := $(filter-out server/main.cpp,$(wildcard server/*.cpp))
api_src      := $(wildcard api/*.cpp)
wsload_src   := $(wildcard tools/wsload/*.cpp)

obj = $(patsubst %.cpp,$(BUILD)/obj/%.o,$(1))

LIBCODEC    := $(BUILD)/libcodec.a
LIBREGISTRY := $(BUILD)/libregistry.a
LIBAUTH     := $(BUILD)/libauth.a
LIBENGINE   := $(BUILD)/libengine.a
LIBCLUSTER  := $(BUILD)/libcluster.a
LIBSERVER   := $(BUILD)/libserver.a
LIBAPI      := $(BUILD)/libapi.a

CODEC_LIBS    := -lssl -lcrypto
REGISTRY_LIBS := -lxxhash
AUTH_LIBS     := -lsimdjson -lssl -lcrypto

test_codec_src    := $(wildcard tests/codec/*.cpp)
test_registry_src := $(wildcard tests/registry/*.cpp)
test_engine_src   := $(wildcard tests/engine/*.cpp)
test_server_src   := $(wildcard tests/server/*.cpp)
test_auth_src     := $(wildcard tests/auth/*.cpp)
test_cluster_src  := $(wildcard tests/cluster/*.cpp)

UNIT_TESTS := $(if $(test_codec_src),$(BUILD)/test_codec) \
              $(if $(test_registry_src),$(BUILD)/test_registry) \
              $(if $(test_auth_src),$(BUILD)/test_auth) \
              $(if $(test_engine_src),$(BUILD)/test_engine) \
              $(if $(test_server_src),$(BUILD)/test_server) \
              $(if $(test_cluster_src),$(BUILD)/test_cluster)

PROGRAMS := $(BUILD)/wspush $(if $(wsload_src),$(BUILD)/wsload)
BENCHES  := $(if $(wildcard bench/bench_codec.cpp),$(BUILD)/bench_codec) \
            $(if $(wildcard bench/bench_registry.cpp),$(BUILD)/bench_registry) \
            $(if $(wildcard bench/bench_auth.cpp),$(BUILD)/bench_auth) \
            $(if $(wildcard bench/bench_tls.cpp),$(BUILD)/bench_tls)

.PHONY: all deps run test unit e2e asan fuzz fuzz-short bench bench-cluster clean FORCE
all: $(PROGRAMS) $(UNIT_TESTS) $(BENCHES)

# Objects depend on the flags they were built with: a build/ from before a flag change
# (RELEASE, OPT) is rebuilt rather than mixed. The stamp is rewritten only when they differ.
FLAGS_STAMP := $(BUILD)/.cxxflags
$(shell mkdir -p $(BUILD) && echo '$(CXX) $(CXXFLAGS)' | cmp -s - $(FLAGS_STAMP) || echo '$(CXX) $(CXXFLAGS)' >$(FLAGS_STAMP))

$(BUILD)/obj/%.o: %.cpp $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CXX) $(CXXFLAGS) -c $< -o $@

$(LIBCODEC): $(call obj,$(codec_src))
$(LIBREGISTRY): $(call obj,$(registry_src))
$(LIBAUTH): $(call obj,$(auth_src))
$(LIBENGINE): $(call obj,$(engine_src))
$(LIBCLUSTER): $(call obj,$(cluster_src))
$(LIBSERVER): $(call obj,$(server_src))
$(LIBAPI): $(call obj,$(api_src))
$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

ALL_LIBS := $(LIBAPI) $(LIBSERVER) $(LIBCLUSTER) $(LIBAUTH) $(LIBENGINE) $(LIBREGISTRY) $(LIBCODEC)
SYS_LIBS := $(CODEC_LIBS) $(REGISTRY_LIBS) -lsimdjson -lhiredis

# --version names the commit built: $(BUILD)/gen/wspush_version.h is rewritten only when
# `git describe` changes, so an unchanged tree rebuilds nothing.
GIT_REV := $(shell git describe --always --dirty 2>/dev/null || echo unknown)
$(BUILD)/gen/wspush_version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define WSPUSH_GIT_REV "$(GIT_REV)"' | cmp -s - $@ || echo '#define WSPUSH_GIT_REV "$(GIT_REV)"' > $@
$(BUILD)/obj/server/cli.o: $(BUILD)/gen/wspush_version.h
FORCE:

$(BUILD)/wspush: $(call obj,server/main.cpp) $(ALL_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(SYS_LIBS)

$(BUILD)/wsload: $(call obj,$(wsload_src)) $(LIBAUTH) $(LIBCODEC)
	$(CXX) $(LDFLAGS) -o $@ $^ $(AUTH_LIBS) $(CODEC_LIBS)

$(BUILD)/test_codec: $(call obj,$(test_codec_src)) $(LIBCODEC)
	$(CXX) $(LDFLAGS) -o $@ $^ $(CODEC_LIBS) -lgtest -lgtest_main
$(BUILD)/test_registry: $(call obj,$(test_registry_src)) $(LIBREGISTRY)
	$(CXX) $(LDFLAGS) -o $@ $^ $(REGISTRY_LIBS) -lgtest -lgtest_main
$(BUILD)/test_auth: $(call obj,$(test_auth_src)) $(LIBAUTH)
	$(CXX) $(LDFLAGS) -o $@ $^ $(AUTH_LIBS) -lgtest -lgtest_main
$(BUILD)/test_engine: $(call obj,$(test_engine_src)) $(LIBENGINE) $(LIBREGISTRY) $(LIBCODEC)
	$(CXX) $(LDFLAGS) -o $@ $^ $(SYS_LIBS) -lgtest -lgtest_main
$(BUILD)/test_cluster: $(call obj,$(test_cluster_src)) $(LIBCLUSTER) $(LIBENGINE) $(LIBREGISTRY) $(LIBCODEC)
	$(CXX) $(LDFLAGS) -o $@ $^ $(SYS_LIBS) -lgtest -lgtest_main
$(BUILD)/test_server: $(call obj,$(test_server_src)) $(ALL_LIBS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(SYS_LIBS) -lgtest -lgtest_main

$(BUILD)/bench_codec: $(call obj,bench/bench_codec.cpp) $(LIBCODEC)
	$(CXX) $(LDFLAGS) -o $@ $^ $(CODEC_LIBS) -lbenchmark
$(BUILD)/bench_registry: $(call obj,bench/bench_registry.cpp) $(LIBREGISTRY)
	$(CXX) $(LDFLAGS) -o $@ $^ $(REGISTRY_LIBS) -lbenchmark \
	  -labsl_hash -labsl_city -labsl_low_level_hash -labsl_raw_hash_set -labsl_hashtablez_sampler

# libjwt is linked here only, as the baseline our token verifier was chosen against.
$(BUILD)/bench_auth: $(call obj,bench/bench_auth.cpp) $(LIBAUTH)
	$(CXX) $(LDFLAGS) -o $@ $^ $(AUTH_LIBS) -ljwt -lbenchmark

# The TLS 1.3 record layer (engine/tls13_records) against OpenSSL's, both over libssl.
$(BUILD)/bench_tls: $(call obj,bench/bench_tls.cpp) $(call obj,engine/tls13_records.cpp)
	$(CXX) $(LDFLAGS) -o $@ $^ -lssl -lcrypto -lbenchmark

deps:
	@tools/install-deps.sh

# make run PORT=2234 API=2235 (API: a port on 127.0.0.1, HOST:PORT, or off).
PORT ?= 1234
API  ?= 1235
API_LISTEN = $(if $(filter off,$(API)),off,$(if $(findstring :,$(API)),$(API),127.0.0.1:$(API)))
run: deps
	@$(MAKE) --no-print-directory -j$(NPROC) $(BUILD)/wspush
	$(BUILD)/wspush --port '$(PORT)' --api-listen '$(API_LISTEN)'

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t --gtest_brief=1; done

e2e: $(PROGRAMS)
	@WSPUSH_BUILD=$(BUILD) tests/e2e/run.sh

test: deps
	@$(MAKE) --no-print-directory -j$(NPROC) all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory -j$(NPROC) $(FUZZ_TARGETS)
	@$(MAKE) --no-print-directory fuzz-short
	@$(MAKE) --no-print-directory e2e

asan: deps
	@$(MAKE) --no-print-directory -j$(NPROC) BUILD=build-asan OPT=-O1 RELEASE= \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build-asan/wspush $(subst $(BUILD)/,build-asan/,$(UNIT_TESTS))
	@$(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 RELEASE= \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" unit
	@ASAN_OPTIONS=detect_leaks=1 WSPUSH_BUILD=build-asan WSPUSH_SANITIZED=1 tests/e2e/run.sh

# libFuzzer targets: clang, each target linked with the codec sources built for fuzzing.
FUZZ_TARGETS := $(patsubst tests/fuzz/%.cpp,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.cpp))
FUZZ_FLAGS   := -std=c++20 -O1 -g -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/%: tests/fuzz/%.cpp $(codec_src) $(wildcard codec/*.h)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ $< $(codec_src) -lssl -lcrypto
# The push API's parsers: pure translation units (no engine; codec/utf8 for path parameters).
FUZZ_API_SRC := api/api_routes.cpp api/api_request_parser.cpp api/api_base64.cpp
$(filter $(BUILD)/fuzz/fuzz_api_% $(BUILD)/fuzz/fuzz_base64,$(FUZZ_TARGETS)): $(BUILD)/fuzz/%: tests/fuzz/%.cpp \
  $(FUZZ_API_SRC) $(codec_src) $(wildcard codec/*.h api/api_*.h)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ $< $(FUZZ_API_SRC) $(codec_src) -lssl -lcrypto -lsimdjson

# The token verifier: auth/ is pure (bytes, a key, the time), linked with simdjson and OpenSSL.
$(filter $(BUILD)/fuzz/fuzz_token,$(FUZZ_TARGETS)): $(BUILD)/fuzz/%: tests/fuzz/%.cpp $(auth_src) $(wildcard auth/*.h)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ $< $(auth_src) $(AUTH_LIBS)
# The cluster's parsers: the bus wire format and the --redis URL list (pure translation units).
$(filter $(BUILD)/fuzz/fuzz_bus_message $(BUILD)/fuzz/fuzz_redis_url,$(FUZZ_TARGETS)): $(BUILD)/fuzz/%: tests/fuzz/%.cpp \
  cluster/bus_message.cpp cluster/redis_url.cpp $(wildcard cluster/*.h)
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ $< cluster/bus_message.cpp cluster/redis_url.cpp

# The TLS 1.3 record layer's parsers and sealing (pure: bytes and OpenSSL's AEAD).
$(filter $(BUILD)/fuzz/fuzz_tls_records,$(FUZZ_TARGETS)): $(BUILD)/fuzz/%: tests/fuzz/%.cpp \
  engine/tls13_records.cpp engine/tls13_records.h
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ $< engine/tls13_records.cpp -lssl -lcrypto

# The command line's parsers (host:port, port, flag suggestion): no engine, no DNS.
FUZZ_CLI_SRC := engine/listen_socket.cpp server/flag_suggestion.cpp
$(filter $(BUILD)/fuzz/fuzz_cli_args,$(FUZZ_TARGETS)): $(BUILD)/fuzz/%: tests/fuzz/%.cpp $(FUZZ_CLI_SRC) \
  engine/listen_socket.h server/flag_suggestion.h
	@mkdir -p $(dir $@)
	clang++ $(FUZZ_FLAGS) -o $@ $< $(FUZZ_CLI_SRC)

fuzz: $(FUZZ_TARGETS)
	@tools/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-short: $(FUZZ_TARGETS)
	@tools/run-fuzz.sh $(FUZZ_SHORT) $(FUZZ_TARGETS)

bench: all
	@WSPUSH_BUILD=$(BUILD) bench/run.sh

# The cluster on this machine (not part of make test): CONNS connections over NODES nodes.
bench-cluster: $(BUILD)/wspush $(BUILD)/wsload
	@WSPUSH_BUILD=$(BUILD) bench/cluster_bench.sh

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) build-asan -name '*.d' 2>/dev/null)
