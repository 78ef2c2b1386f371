-- The two ocpp-db tables that charging-points-sync reads and writes, as the OCPP backend defines them.
-- For the demo and the tests only: `npm run schema` runs this against OCPP_MYSQL_DATABASE and never alters a
-- table that already exists. Production keeps the backend's own schema.

CREATE TABLE IF NOT EXISTS charging_stations (
  id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(255) NOT NULL,
  station_id VARCHAR(255) NOT NULL,
  status VARCHAR(255) NULL,
  vendor VARCHAR(255) NULL,
  model VARCHAR(255) NULL,
  mqtt_token VARCHAR(255) NULL,
  longitude VARCHAR(255) NULL,
  latitude VARCHAR(255) NULL,
  read_only TINYINT(1) NOT NULL DEFAULT 0,
  last_heartbeat DATETIME NULL,
  list_version INT UNSIGNED NULL,
  ocpp_status VARCHAR(255) NULL DEFAULT 'Available',
  created DATETIME NULL,
  updated DATETIME NULL,
  deleted DATETIME NULL,
  PRIMARY KEY (id),
  UNIQUE KEY charging_stations_station_id (station_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE IF NOT EXISTS charging_points (
  id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(255) NOT NULL,
  point_id INT UNSIGNED NOT NULL,
  -- Holds charging_stations.id (the numeric key) as text, not charging_stations.station_id.
  station_id VARCHAR(255) NOT NULL,
  latitude VARCHAR(255) NULL,
  longitude VARCHAR(255) NULL,
  error_code VARCHAR(255) NULL,
  connector_status VARCHAR(255) NULL,
  created DATETIME NULL,
  updated DATETIME NULL,
  deleted DATETIME NULL,
  PRIMARY KEY (id),
  KEY charging_points_station_id (station_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
