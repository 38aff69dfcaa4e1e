#ifndef SCEPD_VERSION_H
#define SCEPD_VERSION_H

#define SCEPD_VERSION	"0.1.0"

#endif
