// Which JSON library parses a push body fastest: simdjson (DOM and On-Demand) vs nlohmann-json.
// A one-off measurement behind the choice in api/api_json.h, kept so it can be re-run:
//   g++ -std=c++20 -O2 bench/json_choice_bench.cpp -o /tmp/json_choice -lsimdjson && /tmp/json_choice
// Method: parse the same body N times, extract uid + message + binary (what /v1/push does),
// report ns per body. Single core, warm cache: a best case for every library alike.
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

static const std::string kSingle =
    R"({"uid": "42", "message": "Your order #1234567 has shipped and will arrive on Tuesday.", "binary": false})";

static std::string batch_body(int n) {
    std::string s = "[";
    for (int i = 0; i < n; ++i) {
        if (i) s += ',';
        s += R"({"uid":"user-)" + std::to_string(i) + R"(","message":"Your order #1234567 has shipped and will arrive on Tuesday."})";
    }
    return s + "]";
}

template <class F>
static double ns_per(int iters, F&& f) {
    auto t0 = std::chrono::steady_clock::now();
    size_t sink = 0;
    for (int i = 0; i < iters; ++i) sink += f();
    auto t1 = std::chrono::steady_clock::now();
    if (sink == 42) puts("");
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / iters;
}

int main() {
    simdjson::dom::parser dom;
    simdjson::ondemand::parser od;
    std::string batch = batch_body(100);
    simdjson::padded_string ps(kSingle), pb(batch);

    auto dom_single = [&] {
        simdjson::dom::element e = dom.parse(ps);
        std::string_view uid = e["uid"], msg = e["message"];
        bool bin = e["binary"];
        return uid.size() + msg.size() + bin;
    };
    auto od_single = [&] {
        auto doc = od.iterate(pb.size() ? ps : ps);
        size_t n = 0;
        for (auto field : doc.get_object()) {
            std::string_view k = field.unescaped_key();
            if (k == "uid" || k == "message") n += std::string_view(field.value().get_string()).size();
            else if (k == "binary") n += bool(field.value().get_bool());
        }
        return n;
    };
    auto nl_single = [&] {
        auto j = nlohmann::json::parse(kSingle);
        return j["uid"].get_ref<const std::string&>().size() + j["message"].get_ref<const std::string&>().size() +
               j["binary"].get<bool>();
    };
    auto dom_batch = [&] {
        size_t n = 0;
        for (simdjson::dom::element e : dom.parse(pb).get_array()) {
            std::string_view uid = e["uid"], msg = e["message"];
            n += uid.size() + msg.size();
        }
        return n;
    };
    auto od_batch = [&] {
        size_t n = 0;
        auto doc = od.iterate(pb);
        for (auto item : doc.get_array())
            for (auto field : item.get_object()) n += std::string_view(field.value().get_string()).size();
        return n;
    };
    auto nl_batch = [&] {
        size_t n = 0;
        for (auto& e : nlohmann::json::parse(batch))
            n += e["uid"].get_ref<const std::string&>().size() + e["message"].get_ref<const std::string&>().size();
        return n;
    };
    printf("body: single push %zu B, batch of 100 %zu B\n", kSingle.size(), batch.size());
    for (int round = 0; round < 2; ++round) {
        printf("simdjson dom      single %7.0f ns   batch100 %8.0f ns\n", ns_per(400000, dom_single), ns_per(20000, dom_batch));
        printf("simdjson ondemand single %7.0f ns   batch100 %8.0f ns\n", ns_per(400000, od_single), ns_per(20000, od_batch));
        printf("nlohmann-json     single %7.0f ns   batch100 %8.0f ns\n", ns_per(400000, nl_single), ns_per(20000, nl_batch));
    }
}
