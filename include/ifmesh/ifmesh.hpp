#pragma once
// Everything a user of ifmesh includes.
#include "ifmesh/error.hpp"
#include "ifmesh/rtc/configuration.hpp"
#include "ifmesh/rtc/data_channel.hpp"
#include "ifmesh/rtc/peer_connection.hpp"
#include "ifmesh/rtc/types.hpp"
