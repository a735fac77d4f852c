#pragma once
// A TCP proxy on 127.0.0.1:0 for outage tests: forwards to a target until
// set_down(true), which resets every open connection and refuses new ones
// (closes them at once) until set_down(false). To the gateway this is a
// database that went away and came back.

#include <cstdint>
#include <memory>
#include <string>

namespace tollgate::test {

class TcpProxy {
 public:
  TcpProxy(std::string target_host, uint16_t target_port);
  ~TcpProxy();
  uint16_t port() const;
  void set_down(bool down);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::test
