#pragma once
// Everything a user of ifmesh includes: the DataChannel stack, agents and their messages,
// signaling (server and client), identity, bandwidth adaptation, the witness log and where the
// library's own diagnostics go.
#include "ifmesh/agent.hpp"
#include "ifmesh/bandwidth.hpp"
#include "ifmesh/error.hpp"
#include "ifmesh/identity.hpp"
#include "ifmesh/ifmessage.hpp"
#include "ifmesh/log.hpp"
#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/rtc/data_channel.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "ifmesh/rtc/types.hpp"
#include "ifmesh/signaling.hpp"
#include "ifmesh/witness.hpp"
