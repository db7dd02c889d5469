// File: api/server/testing/server_fixture.h
//
// A gtest fixture running the embedded server (capture -> ledger -> views -> HTTP) in a temporary
// data dir on a free loopback port, with helpers to issue tokens and send requests. Test-only.
#ifndef TRACELEDGER_API_SERVER_TESTING_SERVER_FIXTURE_H_
#define TRACELEDGER_API_SERVER_TESTING_SERVER_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/auth/token_store.h"
#include "api/server/embedded.h"

namespace traceledger::api::testing {

using nlohmann::json;

class ServerFixture : public ::testing::Test {
 protected:
  // Override to change the options before the server starts.
  virtual void Configure(EmbeddedOptions&) {}

  void SetUp() override {
    static int counter = 0;
    dir_ = (std::filesystem::temp_directory_path() /
            ("tl_api_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Start();
  }

  void TearDown() override {
    StopServer();
    std::filesystem::remove_all(dir_);
  }

  void Start() {
    EmbeddedOptions options;
    options.data_dir = dir_ + "/data";
    options.create_origin = "test.example/traceledger";
    options.server.port = 0;
    options.server.worker_threads = 4;
    options.ledger.checkpoint_interval_ms = 20;
    Configure(options);
    auto server = EmbeddedServer::Open(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
    auto tokens = TokenStore::Open(dir_ + "/data");
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    tokens_ = std::move(tokens).value();
  }

  void StopServer() {
    if (!server_) return;
    server_->Stop();
    if (thread_.joinable()) thread_.join();
    EXPECT_TRUE(run_status_.ok()) << run_status_.ToString();
    client_.reset();
    server_.reset();
    tokens_.reset();
  }

  // A token for (role, party), issued once per fixture.
  std::string Token(Role role, const std::string& party) {
    const std::string key = std::string(RoleName(role)) + "|" + party;
    auto it = issued_.find(key);
    if (it != issued_.end()) return it->second;
    auto token = tokens_->Issue(role, party, "test", std::nullopt);
    EXPECT_TRUE(token.ok()) << token.status().ToString();
    if (!token.ok()) return "";
    issued_[key] = token->token_text;
    return token->token_text;
  }

  static httplib::Headers Auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  httplib::Result Get(const std::string& path, const std::string& token = "") {
    return client_->Get(path.c_str(), Auth(token));
  }
  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& token = "",
                       const std::string& type = "application/json") {
    return client_->Post(path.c_str(), Auth(token), body, type.c_str());
  }

  // The body of a response as JSON (null if it is not JSON).
  static json Body(const httplib::Result& r) {
    if (!r) return nullptr;
    return json::parse(r->body, nullptr, false);
  }

  // Captures native JSON events, one request per submitter run, each as its own submitter
  // (regulator role for "regulator:" parties). Returns the last receipt's seq + 1.
  uint64_t CaptureNative(const std::vector<std::string>& events) {
    uint64_t next = 0;
    for (const std::string& text : events) {
      json event = json::parse(text);
      const std::string party = event["submitterId"].get<std::string>();
      const Role role = party.rfind("regulator:", 0) == 0 ? Role::kRegulator : Role::kEnterprise;
      auto r = Post("/capture", "{\"events\":[" + text + "]}", Token(role, party));
      EXPECT_TRUE(r);
      if (!r) return next;
      EXPECT_EQ(r->status, 202) << r->body;
      json job = Body(r);
      if (job.is_object() && job.contains("receipts")) {
        next = std::max<uint64_t>(next, job["receipts"][0]["seq"].get<uint64_t>() + 1);
      }
    }
    return next;
  }

  // The demo story (tools/demo/sample_events.jsonl): events, one JSON text each.
  static std::vector<std::string> SampleEvents() {
    std::ifstream in(std::string(TL_SOURCE_DIR) + "/tools/demo/sample_events.jsonl");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] == '{') out.push_back(line);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<EmbeddedServer> server_;
  std::thread thread_;
  Status run_status_;
  std::unique_ptr<httplib::Client> client_;
  std::unique_ptr<TokenStore> tokens_;
  std::map<std::string, std::string> issued_;
};

}  // namespace traceledger::api::testing

#endif  // TRACELEDGER_API_SERVER_TESTING_SERVER_FIXTURE_H_
