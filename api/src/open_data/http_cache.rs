//! ETag / Cache-Control / If-None-Match for the open-data doors.
