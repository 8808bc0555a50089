#include "tools/wsload/traffic_model.h"

#include "tools/wsload/broadcast_traffic.h"
#include "tools/wsload/load_options.h"
#include "tools/wsload/p2p_traffic.h"

namespace wsload {

std::unique_ptr<TrafficModel> make_traffic_model(const LoadOptions& opts, WorkerLoop& loop) {
    switch (opts.scenario) {
        case Scenario::Broadcast: return std::make_unique<BroadcastTraffic>(loop);
        case Scenario::P2p: return std::make_unique<P2pTraffic>(loop);
        case Scenario::Connect: break;
    }
    return nullptr;
}

const char* scenario_name(Scenario s) {
    switch (s) {
        case Scenario::Connect: return "connect";
        case Scenario::Broadcast: return "broadcast";
        case Scenario::P2p: return "p2p";
    }
    return "?";
}

}  // namespace wsload
